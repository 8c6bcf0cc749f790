import { z } from 'zod';
import type { TaskRef, TaskSnapshot, TaskState } from '../domain/task.js';
import type { FeishuTaskApi } from './ports.js';
import { parseUpstream, type TaskProvider } from './provider.js';

const DriveTaskData = z.object({ status: z.enum(['success', 'fail', 'process']) });

const STATE: Record<z.output<typeof DriveTaskData>['status'], TaskState> = {
  process: 'running',
  success: 'succeeded',
  fail: 'failed',
};

/** task_check tells only the state: no counts, no times, no reason. */
export function mapDriveTask(ref: TaskRef, raw: unknown, now: Date): TaskSnapshot {
  const d = parseUpstream(DriveTaskData, raw, 'drive v1 task_check');
  const state = STATE[d.status];
  return {
    ref,
    state,
    ...(state === 'succeeded' && { progress: 100 }),
    label: 'drive_folder_task',
    fetchedAt: now,
  };
}

export class FeishuDriveProvider implements TaskProvider {
  readonly kind = 'drive' as const;
  constructor(
    private readonly api: FeishuTaskApi,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async fetch(ref: TaskRef): Promise<TaskSnapshot> {
    return mapDriveTask(ref, await this.api.driveTaskCheck(ref.id), this.now());
  }
}

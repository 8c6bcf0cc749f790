import { z } from 'zod';
import { TaskbotError } from '../domain/errors.js';
import { computeProgress, type TaskRef, type TaskSnapshot, type TaskState } from '../domain/task.js';
import type { DingtalkTaskApi } from './ports.js';
import { fromIso, parseUpstream, type TaskProvider } from './provider.js';

const count = z.number().int().nonnegative().optional();

const StorageTaskBody = z.object({
  task: z.object({
    id: z.string(),
    status: z.enum(['INIT', 'IN_PROGRESS', 'SUCCESS', 'FAIL']),
    totalCount: count,
    successCount: count,
    failCount: count,
    failMessage: z.string().optional(),
    beginTime: z.string().optional(),
    endTime: z.string().optional(),
  }),
});

export function storageState(status: z.output<typeof StorageTaskBody>['task']['status'], failCount = 0): TaskState {
  switch (status) {
    case 'INIT':
      return 'queued';
    case 'IN_PROGRESS':
      return 'running';
    case 'SUCCESS':
      return failCount > 0 ? 'partial' : 'succeeded';
    case 'FAIL':
      return 'failed';
  }
}

export function mapStorageTask(ref: TaskRef, raw: unknown, now: Date): TaskSnapshot {
  const { task: t } = parseUpstream(StorageTaskBody, raw, 'storage v1.0 tasks');
  const state = storageState(t.status, t.failCount);
  return {
    ref,
    state,
    progress: state === 'succeeded' ? 100 : computeProgress({ total: t.totalCount, succeeded: t.successCount, failed: t.failCount }),
    total: t.totalCount,
    succeeded: t.successCount,
    failed: t.failCount,
    startedAt: fromIso(t.beginTime),
    finishedAt: fromIso(t.endTime),
    ...(t.failMessage && { failureReason: t.failMessage }),
    label: 'storage_bulk_move',
    fetchedAt: now,
  };
}

export class DingtalkStorageProvider implements TaskProvider {
  readonly kind = 'storage' as const;
  constructor(
    private readonly api: DingtalkTaskApi,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async fetch(ref: TaskRef): Promise<TaskSnapshot> {
    if (!ref.operator) {
      throw new TaskbotError('INVALID_ARGUMENT', 'a DingTalk storage task is read as the user who started it: their unionId is needed', {
        taskId: ref.id,
      });
    }
    return mapStorageTask(ref, await this.api.storageTask(ref.id, ref.operator), this.now());
  }
}

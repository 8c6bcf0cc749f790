import { z } from 'zod';
import { computeProgress, type TaskRef, type TaskSnapshot, type TaskState } from '../domain/task.js';
import type { DingtalkTaskApi } from './ports.js';
import { parseUpstream, type TaskProvider } from './provider.js';

const count = z.number().int().nonnegative().optional();

const DocTaskBody = z.object({
  taskId: z.union([z.string(), z.number()]).optional(),
  status: z.number().int().min(-1).max(4),
  totalCount: count,
  succCount: count,
  failCount: count,
});

/** -1 waiting, 0 running, 1 success, 2 partly failed, 3 all failed, 4 failed. */
const STATE: Record<number, TaskState> = { [-1]: 'queued', 0: 'running', 1: 'succeeded', 2: 'partial', 3: 'failed', 4: 'failed' };

export function mapDocTask(ref: TaskRef, raw: unknown, now: Date): TaskSnapshot {
  const d = parseUpstream(DocTaskBody, raw, 'doc v2.0 task/info');
  const state = STATE[d.status]!;
  return {
    ref,
    state,
    progress: state === 'succeeded' ? 100 : computeProgress({ total: d.totalCount, succeeded: d.succCount, failed: d.failCount }),
    total: d.totalCount,
    succeeded: d.succCount,
    failed: d.failCount,
    label: 'doc_copy',
    fetchedAt: now,
  };
}

export class DingtalkDocProvider implements TaskProvider {
  readonly kind = 'doc' as const;
  constructor(
    private readonly api: DingtalkTaskApi,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async fetch(ref: TaskRef): Promise<TaskSnapshot> {
    return mapDocTask(ref, await this.api.docTask(ref.id), this.now());
  }
}

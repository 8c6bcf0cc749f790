import { z } from 'zod';
import { computeProgress, type TaskItem, type TaskRef, type TaskSnapshot, type TaskState } from '../domain/task.js';
import type { FeishuTaskApi } from './ports.js';
import { fromUnixSeconds, parseUpstream, type TaskProvider } from './provider.js';

const count = z.number().int().nonnegative();

const ContactTaskData = z.object({
  task_id: z.string(),
  type: z.string(),
  status: z.number().int().min(0).max(10),
  progress: z.number().min(0).max(100),
  total_num: count,
  success_num: count,
  fail_num: count,
  create_time: z.number().int().nonnegative(),
  finish_time: z.number().int().nonnegative().optional(),
  task_info: z
    .array(
      z.object({
        code: z.number().int(),
        msg: z.string().optional(),
        name: z.string().optional(),
        email: z.string().optional(),
        mobile: z.string().optional(),
        user_id: z.string().optional(),
        department_id: z.string().optional(),
      }),
    )
    .optional(),
});
type ContactTaskData = z.output<typeof ContactTaskData>;

/** status < 9 running (queued when nothing has happened yet), 9 done (partial if any failed), 10 failed. */
export function contactState(d: Pick<ContactTaskData, 'status' | 'progress' | 'success_num' | 'fail_num'>): TaskState {
  if (d.status === 10) return 'failed';
  if (d.status === 9) return d.fail_num > 0 ? 'partial' : 'succeeded';
  return d.progress === 0 && d.success_num + d.fail_num === 0 ? 'queued' : 'running';
}

/**
 * Only failed sub-tasks are kept, at most this many: a batch of thousands would otherwise be
 * carried in every snapshot, while cards list ten and count the rest.
 */
export const MAX_KEPT_ITEMS = 50;

/** The failed sub-tasks of an answer as rows, the first `limit` of them (a poll keeps a few; an export all). */
function failedItems(d: ContactTaskData, limit = Infinity): TaskItem[] | undefined {
  return d.task_info
    ?.filter((t) => t.code !== 0)
    .slice(0, limit)
    .map((t) => {
      const id = t.user_id ?? t.department_id;
      return {
        // A sub-task is named by its user or department name, else by the id it was sent with.
        name: t.name ?? id ?? '',
        ...(id !== undefined && { id }),
        ok: false,
        code: String(t.code),
        ...(t.msg !== undefined && { message: t.msg }),
        ...(t.email !== undefined && { email: t.email }),
        ...(t.mobile !== undefined && { mobile: t.mobile }),
      };
    });
}

export function mapContactTask(ref: TaskRef, raw: unknown, now: Date): TaskSnapshot {
  const d = parseUpstream(ContactTaskData, raw, 'contact v2 task/get');
  const items = failedItems(d, MAX_KEPT_ITEMS);
  const state = contactState(d);
  const firstFailure = items?.[0];
  return {
    ref,
    state,
    progress: computeProgress({ progress: d.progress }),
    total: d.total_num,
    succeeded: d.success_num,
    failed: d.fail_num,
    startedAt: fromUnixSeconds(d.create_time),
    finishedAt: fromUnixSeconds(d.finish_time),
    ...(state === 'failed' && firstFailure?.message && { failureReason: firstFailure.message }),
    ...(items && { items }),
    label: d.type,
    fetchedAt: now,
  };
}

export class FeishuContactProvider implements TaskProvider {
  readonly kind = 'contact' as const;
  constructor(
    private readonly api: FeishuTaskApi,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async fetch(ref: TaskRef): Promise<TaskSnapshot> {
    return mapContactTask(ref, await this.api.contactTask(ref.id), this.now());
  }

  /** Every failed row the upstream lists (the snapshot keeps MAX_KEPT_ITEMS); none until the task has finished normally. */
  async failedRows(ref: TaskRef): Promise<TaskItem[]> {
    return failedItems(parseUpstream(ContactTaskData, await this.api.contactTask(ref.id), 'contact v2 task/get')) ?? [];
  }
}

import { z } from 'zod';

/**
 * What a submitted Track a task form holds, read leniently as either platform's client sends it:
 * Feishu's `form_value` (the kind as its option value) and DingTalk's form (the kind as
 * `{index, value}`); a missing or odd field is read as empty, never a reason to drop the submission.
 */
export const TrackFormValues = z.object({
  task_id: z
    .unknown()
    .optional()
    .transform((v) => (typeof v === 'string' ? v.trim() : typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : '')),
  kind: z
    .unknown()
    .optional()
    .transform((v) => {
      const k = typeof v === 'object' && v !== null ? (v as { value?: unknown }).value : v;
      return typeof k === 'string' && k !== '' ? k : 'detect';
    }),
  notify: z
    .unknown()
    .optional()
    .transform((v) => v === true || v === 'true'),
});
export type TrackFormValues = z.output<typeof TrackFormValues>;

/** The `status` command a submitted form stands for: exactly what a person would type. */
export function trackFormText(v: TrackFormValues): string {
  return ['status', v.task_id, v.kind === 'detect' ? '' : v.kind, v.notify ? 'notify' : ''].filter(Boolean).join(' ');
}

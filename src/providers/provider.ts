import type { z } from 'zod';
import { TaskbotError } from '../domain/errors.js';
import type { TaskItem, TaskKind, TaskRef, TaskSnapshot } from '../domain/task.js';

/** One per upstream task endpoint (docs/architecture.md, layer 3). */
export interface TaskProvider {
  readonly kind: TaskKind;
  fetch(ref: TaskRef): Promise<TaskSnapshot>;
  /** Every failed row, for kinds whose upstream lists them (KINDS_WITH_ROWS). */
  failedRows?(ref: TaskRef): Promise<TaskItem[]>;
}

/** Validates an upstream payload; a mismatch is a BAD_UPSTREAM_RESPONSE naming the field. */
export function parseUpstream<S extends z.ZodType>(schema: S, raw: unknown, endpoint: string): z.output<S> {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue?.path.length ? issue.path.join('.') : '(root)';
  throw new TaskbotError('BAD_UPSTREAM_RESPONSE', `${endpoint}: unexpected answer at ${path}: ${issue?.message ?? 'invalid'}`, {
    endpoint,
  });
}

/** Seconds since the epoch → Date; absent or 0 → undefined. */
export function fromUnixSeconds(s: number | undefined): Date | undefined {
  return s ? new Date(s * 1000) : undefined;
}

/** ISO 8601 (DingTalk sends minute precision, e.g. 2022-07-29T14:55Z) → Date; absent or unparsable → undefined. */
export function fromIso(s: string | undefined): Date | undefined {
  if (!s) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : new Date(t);
}

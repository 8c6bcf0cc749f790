/** The neutral task model (docs/architecture.md). Everything past the providers speaks only this. */

export type Platform = 'feishu' | 'dingtalk';
export type TaskKind = 'contact' | 'drive' | 'storage' | 'doc';

export const KINDS_BY_PLATFORM: Readonly<Record<Platform, readonly TaskKind[]>> = {
  feishu: ['contact', 'drive'],
  dingtalk: ['storage', 'doc'],
};
export const ALL_KINDS: readonly TaskKind[] = ['contact', 'drive', 'storage', 'doc'];

export interface TaskRef {
  /** The app it is read through (DESIGN §8): one task id in two apps is two tasks. */
  app: string;
  platform: Platform;
  kind: TaskKind;
  id: string;
  /** DingTalk storage tasks are read on behalf of a user (their unionId). */
  operator?: string;
}

export type TaskState = 'queued' | 'running' | 'succeeded' | 'partial' | 'failed';
export const TERMINAL_STATES: readonly TaskState[] = ['succeeded', 'partial', 'failed'];

export interface TaskItem {
  name: string;
  /** The id the row was sent with (a user or department id), when the upstream names it. */
  id?: string;
  ok: boolean;
  code?: string;
  message?: string;
  email?: string;
  mobile?: string;
}

export interface TaskSnapshot {
  ref: TaskRef;
  state: TaskState;
  /** 0..100 */
  progress?: number;
  total?: number;
  succeeded?: number;
  failed?: number;
  startedAt?: Date;
  finishedAt?: Date;
  failureReason?: string;
  items?: TaskItem[];
  /** What the task does, e.g. add_user, move_files. */
  label: string;
  fetchedAt: Date;
}

/** Kinds whose upstream lists every row (contact's task_info); the others give counts and one reason. */
export const KINDS_WITH_ROWS: readonly TaskKind[] = ['contact'];

export function isTerminal(state: TaskState): boolean {
  return TERMINAL_STATES.includes(state);
}

/** The upstream percentage when given, else (succeeded + failed) / total; undefined when unknowable. */
export function computeProgress(s: {
  progress?: number | undefined;
  total?: number | undefined;
  succeeded?: number | undefined;
  failed?: number | undefined;
}): number | undefined {
  if (s.progress !== undefined) return clampPercent(s.progress);
  if (s.total === undefined || s.total <= 0) return undefined;
  return clampPercent((((s.succeeded ?? 0) + (s.failed ?? 0)) / s.total) * 100);
}

function clampPercent(p: number): number {
  return Math.max(0, Math.min(100, Math.round(p)));
}

/** `app:kind:id`. The single-app variables' apps are named for their platform: keys made before there were several stay theirs. */
export function refKey(ref: TaskRef): string {
  return `${ref.app}:${ref.kind}:${ref.id}`;
}

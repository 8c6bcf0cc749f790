import type { TaskSnapshot } from './task.js';

/** Snapshots are stored as JSON; dates travel as ISO strings. */
export function snapshotToJson(s: TaskSnapshot): string {
  return JSON.stringify(s);
}

export function snapshotFromJson(text: string): TaskSnapshot {
  const o = JSON.parse(text) as Record<string, unknown>;
  for (const k of ['startedAt', 'finishedAt', 'fetchedAt'] as const) {
    if (typeof o[k] === 'string') o[k] = new Date(o[k] as string);
  }
  // Stored before there were several apps: the task was the app named for its platform's (DESIGN §8).
  const ref = o.ref as { app?: string; platform: string };
  if (ref && ref.app === undefined) o.ref = { app: ref.platform, ...ref };
  return o as unknown as TaskSnapshot;
}

/** What counts as a change of the task: everything but when we looked. */
export function snapshotFingerprint(s: TaskSnapshot): string {
  return JSON.stringify({ ...s, fetchedAt: undefined });
}

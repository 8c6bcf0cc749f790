/** Poll pacing while watching a task: 2 s → 60 s, doubling while nothing changes, back to 2 s on a change. */
export const MIN_POLL_MS = 2_000;
export const MAX_POLL_MS = 60_000;
/** A task watched this long without ending is left alone (the card says "press Refresh"). */
export const WATCH_GIVE_UP_MS = 24 * 60 * 60_000;

export function nextPollDelay(prev: number | undefined, changed: boolean, min = MIN_POLL_MS, max = MAX_POLL_MS): number {
  if (prev === undefined || changed) return min;
  return Math.min(max, prev * 2);
}

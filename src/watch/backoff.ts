/** Poll pacing while watching a task: 2 s → 60 s, doubling while nothing changes, back to 2 s on a change. */
export const MIN_POLL_MS = 2_000;
export const MAX_POLL_MS = 60_000;
/** A task watched this long without ending is left alone (the card says "press Refresh"). */
export const WATCH_GIVE_UP_MS = 24 * 60 * 60_000;

export function nextPollDelay(prev: number | undefined, changed: boolean, min = MIN_POLL_MS, max = MAX_POLL_MS): number {
  if (prev === undefined || changed) return min;
  return Math.min(max, prev * 2);
}

/** A card whose sends fail waits 1 s, 2 s, 4 s … up to 10 min between tries, on its own (its task stays calm). */
export const MAX_CARD_RETRY_MS = 10 * 60_000;
/** After this many failed sends in a row (about two and a half hours) the card is given up as gone. */
export const MAX_CARD_FAILURES = 20;

export function cardRetryDelay(failures: number): number {
  return Math.min(MAX_CARD_RETRY_MS, 1000 * 2 ** Math.max(0, failures - 1));
}

import type { Estimate } from '../domain/eta.js';

/** With a time-left estimate, the next poll comes after this share of the time left. */
export const SHARE_OF_TIME_LEFT = 0.2;
/** An estimate fitting at least this well (R²) may stretch the wait past the usual longest (60 s). */
export const CONFIDENT_FIT = 0.97;
/** A task hours from its end is still looked at this often (its card's time left stays honest). */
export const ETA_MAX_POLL_MS = 10 * 60_000;
/** While someone is looking (a Refresh, another `status`), at least this often. */
export const INTEREST_POLL_MS = 5_000;

/**
 * When to poll a task next. With an estimate of its end: sparsely while the end is far, more and
 * more often as it nears (a fifth of the time left), so the end is seen soon after it comes at
 * few calls; waits past 60 s (up to 10 min) only when the progress follows its line closely.
 * Without one (no progress figures, a stall, too little history): the change backoff (2 s
 * doubling to 60 s while nothing moves). Someone's recent interest caps the wait. The share was
 * chosen with `npm run bench -- freshness` (README, Performance).
 */
export function pollDelay(p: { backoffMs: number; estimate?: Estimate | undefined; interested?: boolean; minMs: number; maxMs: number }): number {
  const e = p.estimate;
  // Only an estimate that fits well may stretch the wait past the usual longest one.
  const longest = e?.kind === 'eta' && e.fit >= CONFIDENT_FIT ? ETA_MAX_POLL_MS : p.maxMs;
  const d = e?.kind === 'eta' ? Math.min(longest, Math.max(p.minMs, Math.round(e.remainingMs * SHARE_OF_TIME_LEFT))) : p.backoffMs;
  return p.interested ? Math.min(d, Math.max(p.minMs, INTEREST_POLL_MS)) : d;
}

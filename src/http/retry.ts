import { asTaskbotError, type TaskbotError } from '../domain/errors.js';
import { systemClock, type Clock } from '../domain/clock.js';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 300, maxDelayMs: 8_000 };

export interface RetryOptions {
  policy?: RetryPolicy;
  clock?: Clock;
  random?: () => number;
  /** Called before each wait; for logs and metrics. */
  onRetry?: (err: TaskbotError, attempt: number, delayMs: number) => void;
  /** Called after each attempt of a named call: `ok` or the error code (metrics). */
  onCall?: (api: string, outcome: string, retried: boolean) => void;
  /** The call is not idempotent (a message the platform does not deduplicate): one that may have gone out is not sent again. */
  once?: boolean;
}

/**
 * Kept by hand rather than p-retry: the waits run on our Clock (tests and the benchmarks drive
 * them on a virtual clock), the server's own wait is a floor, and what is retried is decided by
 * the one classification (TaskbotError.retryable), which p-retry would need wrapping for anyway.
 *
 * Exponential backoff with full jitter; a server's own wait (rate-limit reset, Retry-After) is a floor.
 * Only errors marked retryable (network, timeout, 5xx, rate limit) are retried; every other 4xx ends at once.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const policy = opts.policy ?? DEFAULT_RETRY;
  const clock = opts.clock ?? systemClock;
  const random = opts.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      const err = asTaskbotError(e);
      if (!err.retryable || attempt >= policy.attempts || (opts.once && err.details.ambiguous)) throw err;
      const wait = backoffDelay(attempt, policy, random, err.details.retryAfterMs);
      opts.onRetry?.(err, attempt, wait);
      await clock.sleep(wait);
    }
  }
}

export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number, floorMs = 0): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  const jittered = Math.round(ceiling / 2 + (random() * ceiling) / 2);
  return Math.max(jittered, floorMs);
}

export interface PersistOptions {
  /** Waits grow from the base to the cap (attempts are unlimited here). */
  policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>;
  signal: AbortSignal;
  /** Errors that no retry can fix (bad credentials): they end the loop, thrown to the caller. */
  isFatal: (err: TaskbotError) => boolean;
  onFailure?: (err: TaskbotError, attempt: number, delayMs: number) => void;
  clock?: Clock;
  random?: () => number;
}

/**
 * Tries `fn` until it succeeds, with capped backoff and jitter between attempts, for connections
 * that must come up eventually (a platform that is down at start). Resolves false when stopped.
 */
export async function persist(fn: () => Promise<void>, o: PersistOptions): Promise<boolean> {
  const clock = o.clock ?? systemClock;
  const policy = { attempts: Infinity, ...o.policy };
  for (let attempt = 1; !o.signal.aborted; attempt++) {
    try {
      await fn();
      return !o.signal.aborted;
    } catch (e) {
      const err = asTaskbotError(e);
      if (o.isFatal(err)) throw err;
      if (o.signal.aborted) break;
      const wait = backoffDelay(Math.min(attempt, 30), policy, o.random ?? Math.random, err.details.retryAfterMs);
      o.onFailure?.(err, attempt, wait);
      await clock.sleep(wait, o.signal).catch(() => undefined);
    }
  }
  return false;
}

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
}

/**
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
      if (!err.retryable || attempt >= policy.attempts) throw err;
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

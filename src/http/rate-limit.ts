import { systemClock, type Clock } from '../domain/clock.js';
import { ALONE, sharedLimit, type LimitShare } from '../domain/limit-share.js';

/**
 * A "per second" platform limit, padded a little: the platform counts arrivals, and network
 * jitter must not squeeze one request too many into its second.
 */
export const RATE_WINDOW_MS = 1030;

/**
 * Kept by hand rather than bottleneck or p-throttle: those have no injectable clock (the
 * benchmarks run limits on a virtual one) and pace by fixed spacing or reservoirs, which either
 * wastes the burst the platform allows or overshoots its sliding second.
 *
 * At most `limit` starts in any window of `windowMs` (a sliding log of start times).
 * A sliding window, unlike fixed spacing, lets a burst through up to the limit and still
 * never exceeds it over any one-second span the platform measures.
 */
export class SlidingWindowLimiter {
  private readonly starts: number[] = [];
  private chain: Promise<void> = Promise.resolve();

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly clock: Clock = systemClock,
    private readonly onWait?: () => void,
    private readonly share: LimitShare = ALONE,
  ) {
    if (limit < 1) throw new RangeError('limit must be at least 1');
  }

  /** Resolves when the caller may start; callers are served in arrival order. */
  acquire(): Promise<void> {
    const turn = this.chain.then(() => this.waitForSlot());
    this.chain = turn;
    return turn;
  }

  private async waitForSlot(): Promise<void> {
    for (let waited = false; ; waited = true) {
      const now = this.clock.mono();
      while (this.starts.length > 0 && now - this.starts[0]! >= this.windowMs) this.starts.shift();
      if (this.starts.length < sharedLimit(this.limit, this.share())) {
        this.starts.push(now);
        return;
      }
      if (!waited) this.onWait?.();
      await this.clock.sleep(this.starts[0]! + this.windowMs - now);
    }
  }
}

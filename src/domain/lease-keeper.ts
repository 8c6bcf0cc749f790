import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';

/** Thrown by work whose lease another holder took meanwhile: it stops, leaving the row to that holder. */
export class LeaseLost extends Error {
  constructor(readonly key: string) {
    super(`the lease on ${key} was lost`);
    this.name = 'LeaseLost';
  }
}

/** How much of a lease must be left for a side effect to start without asking the store first. */
const ENSURE_MARGIN = 1 / 3;

/**
 * The leases this process holds on rows it is working (tasks it polls and writes cards for,
 * digests it sends, commands it answers, script requests it serves), renewed together every third
 * of the lease for as long as they are held. Work that outlives its lease keeps it, and a process
 * that dies (or is paused) lets it lapse for another to take over.
 *
 * How long a lease is surely still this process's is measured on the monotonic clock from the
 * moment its renewal was asked: a pause (SIGSTOP, a long GC, a stepped wall clock) cannot make
 * it look longer. Before a side effect that must not be done twice, ensure() says whether the
 * lease still holds, renewing it first when little is left.
 */
export class LeaseKeeper {
  private readonly held = new Map<string, { validUntil: number; lost: boolean }>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly o: {
      leaseMs: number;
      clock: Clock;
      /** Extends the rows' leases to `until` (only those still this process's); resolves with the keys it extended, when it can tell. */
      renew: (keys: string[], until: number) => Promise<string[] | undefined>;
      /** What the rows are, for the log. */
      what: string;
      logger?: Logger;
    },
  ) {}

  /** When a lease taken now ends, in the store's time. */
  until(): number {
    return this.o.clock.now() + this.o.leaseMs;
  }

  /** The lease on `key` was taken (or is about to be: `since` is when it was asked, monotonic). */
  hold(key: string, since = this.o.clock.mono()): void {
    this.held.set(key, { validUntil: since + this.o.leaseMs, lost: false });
  }

  has(key: string): boolean {
    return this.held.has(key);
  }

  drop(key: string): void {
    this.held.delete(key);
  }

  get keys(): string[] {
    return [...this.held.keys()];
  }

  /** Whether the lease on `key` is still this process's, renewed first when little of it is left. */
  async ensure(key: string): Promise<boolean> {
    const h = this.held.get(key);
    if (!h || h.lost) return false;
    if (this.o.clock.mono() < h.validUntil - this.o.leaseMs * ENSURE_MARGIN) return true;
    await this.renew([key]);
    return !h.lost && this.o.clock.mono() < h.validUntil;
  }

  /** Throws LeaseLost unless the lease on `key` is still this process's (before a side effect). */
  async guard(key: string): Promise<void> {
    if (!(await this.ensure(key))) throw new LeaseLost(key);
  }

  start(): void {
    this.timer = setInterval(() => void this.renew(this.keys), this.o.leaseMs / 3);
    this.timer.unref();
  }

  /** Stops renewing; the keys still held are the caller's to let go. */
  stop(): string[] {
    clearInterval(this.timer);
    const left = this.keys;
    this.held.clear();
    return left;
  }

  private async renew(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    const asked = this.o.clock.mono();
    try {
      const kept = await this.o.renew(keys, this.until());
      const set = kept && new Set(kept);
      for (const k of keys) {
        const h = this.held.get(k);
        if (!h) continue;
        if (set && !set.has(k)) {
          h.lost = true;
          this.o.logger?.warn({ key: k }, `lost the lease of one of the ${this.o.what} to another holder; stopped working it`);
        } else h.validUntil = asked + this.o.leaseMs;
      }
    } catch (e) {
      // Not renewed, not lost either: the lease runs out on its own unless a later renewal gets through.
      this.o.logger?.warn({ err: e }, `could not renew the leases of ${this.o.what}`);
    }
  }
}

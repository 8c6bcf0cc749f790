import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';

/**
 * The leases this replica holds on rows it is working (commands it answers, script requests it
 * serves), renewed together every third of the lease for as long as they are held: work that
 * outlives its lease keeps it, and a replica that dies lets it lapse for another to take over.
 */
export class LeaseKeeper {
  private readonly held = new Set<string>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly o: {
      leaseMs: number;
      clock: Clock;
      /** Extends the rows' leases to `until` (only those still this replica's). */
      renew: (keys: string[], until: number) => Promise<void>;
      /** What the rows are, for the log. */
      what: string;
      logger?: Logger;
    },
  ) {}

  /** When a lease taken now ends. */
  until(): number {
    return this.o.clock.now() + this.o.leaseMs;
  }

  hold(key: string): void {
    this.held.add(key);
  }

  drop(key: string): void {
    this.held.delete(key);
  }

  get keys(): string[] {
    return [...this.held];
  }

  start(): void {
    this.timer = setInterval(() => void this.renew(), this.o.leaseMs / 3);
    this.timer.unref();
  }

  /** Stops renewing; the rows still held are the caller's to let go. */
  stop(): string[] {
    clearInterval(this.timer);
    const left = this.keys;
    this.held.clear();
    return left;
  }

  private async renew(): Promise<void> {
    if (this.held.size === 0) return;
    await this.o.renew(this.keys, this.until()).catch((e) => this.o.logger?.warn({ err: e }, `could not renew the leases of ${this.o.what}`));
  }
}

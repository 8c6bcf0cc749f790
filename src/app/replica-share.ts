import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import type { LimitShare } from '../domain/limit-share.js';
import type { Store } from '../store/store.js';

/** How often a replica says it is alive; one not heard from for three beats no longer counts. */
export const HEARTBEAT_MS = 5000;

/**
 * The platforms' limits are per app, not per process: replicas on one database each take an equal
 * share of every app-wide limit (sends, polls, report pages), counting each other through a
 * heartbeat in the store. One that stops leaves at once; one that dies stops counting after 15 s.
 * A replica just started is not counted by the others until their next beat (up to 5 s over).
 */
export class ReplicaShare {
  readonly owner = `replica-${randomUUID()}`;
  private replicas = 1;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly logger?: Logger,
    private readonly everyMs = HEARTBEAT_MS,
  ) {}

  /** Replicas counted at the last beat, this one included. */
  get count(): number {
    return this.replicas;
  }

  /** This replica's share of an app-wide limit, 1 when it is alone. */
  readonly share: LimitShare = () => 1 / this.replicas;

  /** The first beat is awaited, so the limits are right from the first send. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat(), this.everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.store.replicas.leave(this.owner).catch((e) => this.logger?.warn({ err: e }, 'could not leave the replica count'));
  }

  private async beat(): Promise<void> {
    try {
      const n = await this.store.replicas.heartbeat(this.owner, this.clock.now(), 3 * this.everyMs);
      if (n !== this.replicas) this.logger?.info({ replicas: n }, 'replicas on this database changed: limits shared among them');
      this.replicas = Math.max(1, n);
    } catch (e) {
      // The store is unreachable: the last count stands.
      this.logger?.warn({ err: e }, 'replica heartbeat failed');
    }
  }
}

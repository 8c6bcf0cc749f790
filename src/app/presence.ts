import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import { asTaskbotError } from '../domain/errors.js';
import type { LimitShare } from '../domain/limit-share.js';
import type { Store } from '../store/store.js';
import { withDeadline } from '../domain/deadline.js';

/** How often a replica says it is alive; the beat is also the store's health probe (a write). */
export const HEARTBEAT_MS = 2000;
/** A replica not heard from for this long no longer counts. */
export const GONE_AFTER_MS = 10_000;
/** A beat that takes longer than this counts as failed: the store does not answer. */
export const STORE_DEADLINE_MS = 1500;

export type StoreCheck = { ok: true } | { ok: false; error: string };

/**
 * This replica's presence in the database, beating every couple of seconds:
 * - the platforms' limits are per app, not per process, so replicas on one database each take an
 *   equal share of every app-wide limit (sends, polls, report pages), counting each other by their
 *   beats. One that stops leaves at once; one that dies stops counting after GONE_AFTER_MS.
 * - a replica not seen for GONE_AFTER_MS is gone: the card writes its queue held are taken over.
 * - each beat is a write with a deadline, so it says whether the store takes writes: a store that
 *   fails or goes silent is noticed within a beat and a deadline, told once in the log when it goes
 *   and once when it is back, and shown in /readyz and the `taskbot_store_up` metric.
 */
export class Presence {
  readonly owner = `replica-${randomUUID()}`;
  private replicas = 1;
  private timer?: NodeJS.Timeout;
  private inflight?: Promise<StoreCheck>;
  /** The last beat's outcome and when it ended (monotonic). */
  private last: { check: StoreCheck; at: number } = { check: { ok: true }, at: -Infinity };
  private downSince?: number;
  /** Left the count: no more beats (a /readyz asked while stopping answers from the last one). */
  private stopped = false;

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

  /** Whether the store took the last beat. */
  get storeUp(): boolean {
    return this.last.check.ok;
  }

  /** The first beat is awaited, so the limits are right from the first send. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat(), this.everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.stopped = true;
    // A beat still in flight would write this replica back after it left (and it would count for
    // GONE_AFTER_MS more): let it land first.
    if (this.inflight) await withDeadline(this.inflight, STORE_DEADLINE_MS).catch(() => undefined);
    await withDeadline(this.store.replicas.leave(this.owner), STORE_DEADLINE_MS).catch((e) =>
      this.logger?.warn({ err: asTaskbotError(e).toJSON() }, 'could not leave the replica count'),
    );
  }

  /** Whether the store takes writes now (for /readyz): the last beat when it is fresh, else a new one; within the deadline. */
  storeCheck(): Promise<StoreCheck> {
    if (this.clock.mono() - this.last.at < Math.min(1000, this.everyMs)) return Promise.resolve(this.last.check);
    return this.beat();
  }

  /** One beat at a time: a store that hangs is not asked again before it answered or the query's own deadline ended it. */
  private beat(): Promise<StoreCheck> {
    if (this.stopped) return Promise.resolve(this.last.check);
    if (this.inflight) return withDeadline(this.inflight, STORE_DEADLINE_MS).catch((e: unknown) => this.failed(e));
    const goneAfter = Math.max(GONE_AFTER_MS, 3 * this.everyMs);
    const write = this.store.replicas.heartbeat(this.owner, this.clock.now(), goneAfter).then(async (n) => {
      // The writes a replica that went away had queued are sent by whoever looks next.
      const taken = await this.store.tasks.takeOverQueued(this.clock.now(), goneAfter);
      if (taken > 0) this.logger?.info({ tasks: taken }, 'a replica went away with card writes queued: they are sent from here');
      return n;
    });
    const beat = withDeadline(write, STORE_DEADLINE_MS).then(
      (n) => {
        if (n !== this.replicas) this.logger?.info({ replicas: n }, 'replicas on this database changed: limits shared among them');
        this.replicas = Math.max(1, n);
        return this.settled({ ok: true });
      },
      (e: unknown) => this.failed(e),
    );
    // The flight ends when the write does (a late answer, or pg's own query deadline), not at our deadline.
    this.inflight = write.then(
      () => beat,
      () => beat,
    );
    void this.inflight.finally(() => (this.inflight = undefined));
    return beat;
  }

  private failed(e: unknown): StoreCheck {
    const err = asTaskbotError(e);
    return this.settled({ ok: false, error: err.message }, err.toJSON());
  }

  private settled(check: StoreCheck, err?: Record<string, unknown>): StoreCheck {
    const now = this.clock.mono();
    if (!check.ok && this.downSince === undefined) {
      this.downSince = now;
      this.logger?.warn({ err }, 'the store does not take writes: commands are answered with an apology, watching waits; taskbot keeps trying');
    } else if (check.ok && this.downSince !== undefined) {
      this.logger?.warn({ downForMs: Math.round(now - this.downSince) }, 'the store takes writes again: work resumes');
      this.downSince = undefined;
    }
    this.last = { check, at: now };
    return check;
  }
}

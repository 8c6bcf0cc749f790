import { sql } from 'kysely';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../domain/clock.js';
import type { Store } from './store.js';
import { clampStoredTimes, shiftStoredTimes } from './stored-times.js';

/** A change of the reference's offset beyond this is a step of its clock, not drift. */
const STEP_MS = 1000;
/** How often the offset to the reference is measured again. */
const SYNC_EVERY_MS = 2000;
/** How many looks (about half a minute) after a step times written on the old timeline are looked for (a round, a send, in flight across it). */
const SETTLING_LOOKS = 15;

/**
 * The time taskbot schedules, leases and counts replicas by: the monotonic clock, set to a
 * reference and checked against it every couple of seconds.
 *
 * - PostgreSQL: the reference is the database server's clock, so replicas whose own clocks differ
 *   (by more than a lease, even) agree on every lease and heartbeat, and a step of a replica's own
 *   clock changes nothing.
 * - SQLite: the reference is this host's wall clock (every process on the file shares it). When it
 *   steps (an NTP correction, back or forward), the stored deadlines and ages are moved with it, so
 *   nothing waits out the step and no lease lapses early; digests keep their times of day, so one
 *   stepped over fires once, as after downtime, and one planned before a step back is planned again.
 *
 * Human times (a card's "updated at", a digest's schedule) follow the reference too.
 */
export class StoreClock implements Clock {
  private offset: number;
  private timer?: NodeJS.Timeout;
  private syncing?: Promise<void>;
  /** How many more looks after a step times written on the timeline before it are looked for. */
  private settling = 0;

  private constructor(
    private readonly base: Clock,
    private readonly reference: () => Promise<number>,
    /** The stored times of one host's file, moved with its clock's steps; none where the reference is a database server's. */
    private readonly stored: { shift(stepMs: number): Promise<void>; clamp(now: number): Promise<number> } | undefined,
    private readonly logger: Logger | undefined,
    first: number,
  ) {
    this.offset = first;
  }

  /** The store's clock, its offset measured once before it is used. */
  static async open(store: Store, base: Clock = systemClock, logger?: Logger): Promise<StoreClock> {
    // A virtual clock (tests, benchmarks) cannot follow a database's real one: it is its own reference.
    const db = store.dialect === 'postgres' && base === systemClock;
    const reference = db ? () => databaseNow(store) : async () => base.now();
    // Moving stored times is for one host's file; a database server's clock is the same for everyone.
    const stored =
      store.dialect === 'sqlite' ? { shift: (step: number) => shiftStoredTimes(store, step), clamp: (now: number) => clampStoredTimes(store, now) } : undefined;
    const clock = new StoreClock(base, reference, stored, logger, await measure(base, reference));
    const n = (await stored?.clamp(clock.now())) ?? 0;
    if (n > 0) logger?.warn({ times: n }, 'stored times lay ahead of the clock (it stepped back while taskbot was down): brought back to now');
    return clock;
  }

  /** Whole milliseconds: stored times are integers. */
  now(): number {
    return Math.round(this.base.mono() + this.offset);
  }

  mono(): number {
    return this.base.mono();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.base.sleep(ms, signal);
  }

  start(): void {
    this.timer = setInterval(() => void this.sync(), SYNC_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Measures the offset again; a step moves the stored times before it is followed. One at a time. */
  sync(): Promise<void> {
    this.syncing ??= this.syncOnce().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    let offset: number;
    try {
      offset = await measure(this.base, this.reference);
    } catch (e) {
      // The database does not answer: the last offset stands (the monotonic clock keeps time meanwhile).
      return void this.logger?.debug({ err: e }, 'could not read the reference clock');
    }
    const step = offset - this.offset;
    try {
      if (Math.abs(step) >= STEP_MS) {
        this.logger?.warn(
          { stepMs: Math.round(step) },
          `the clock stepped ${step > 0 ? 'forward' : 'back'} by ${Math.round(Math.abs(step) / 1000)} s: schedules and leases follow it`,
        );
        await this.stored?.shift(step);
        this.settling = SETTLING_LOOKS;
      }
      this.offset = offset;
      // Work that read the time before the step may write it after the move: after a step back such
      // a time lies ahead of what can be right, and is brought back (forward, it is only early).
      if (this.settling > 0) {
        this.settling--;
        await this.stored?.clamp(this.now());
      }
    } catch (e) {
      // Not followed yet: the next sync sees the same step and tries again.
      this.logger?.warn({ err: e }, 'could not move the stored times with the clock; trying again');
    }
  }
}

/** The reference's time minus the monotonic time, taking the middle of the round trip. */
async function measure(base: Clock, reference: () => Promise<number>): Promise<number> {
  const before = base.mono();
  const ref = await reference();
  const after = base.mono();
  return ref - (before + after) / 2;
}

async function databaseNow(store: Store): Promise<number> {
  const r = await sql<{ t: number | string }>`select extract(epoch from clock_timestamp()) * 1000 as t`.execute(store.db);
  return Number(r.rows[0]!.t);
}

import type { Platform } from '../domain/task.js';
import type { StoreContext, TaskRow } from './store-context.js';
import { leaseFree, leaseHeldBy, renewLeases } from './leases.js';

/** An upstream API of one app whose poll budget is spent for now. */
export interface PollLine {
  app: string;
  platform: Platform;
  kind: string;
}

/** How long a Refresh or a repeated `status` makes its task poll faster. */
export const INTEREST_MS = 3 * 60_000;

export type TaskPatch = Partial<
  Pick<TaskRow, 'snapshot' | 'snapshot_hash' | 'next_due_at' | 'backoff_ms' | 'last_changed_at' | 'error_count' | 'last_error' | 'history' | 'held_by'>
>;

/**
 * The tasks cards show, one row per distinct upstream task: their schedule and the lease that lets
 * one holder (a round, a Stop, a Refresh, a queued card's turn) poll them and write to their cards.
 */
export class TaskStore {
  constructor(private readonly ctx: StoreContext) {}

  /**
   * Leases up to `limit` due tasks that have work to `owner` until `leaseUntil`; rows another owner
   * holds are skipped, and so are the watched tasks of `full` APIs (no poll left for them here).
   */
  async claimDue(owner: string, now: number, leaseUntil: number, limit: number, full: readonly PollLine[] = []): Promise<TaskRow[]> {
    const { db, dialect } = this.ctx;
    let due = db
      .selectFrom('tasks')
      .select('task_key')
      .where((eb) => eb.or([eb('active', '=', 1), eb('pending', '=', 1)]))
      .where('next_due_at', '<=', now)
      .where(leaseFree(now))
      .orderBy('next_due_at')
      .limit(limit);
    if (full.length > 0) {
      due = due.where((eb) =>
        eb.not(
          eb.and([eb('active', '=', 1), eb.or(full.map((f) => eb.and([eb('app', '=', f.app), eb('platform', '=', f.platform), eb('kind', '=', f.kind)])))]),
        ),
      );
    }
    if (dialect === 'postgres') due = due.forUpdate().skipLocked();
    return (
      db
        .updateTable('tasks')
        .set({ lease_owner: owner, lease_until: leaseUntil, poked: 0 })
        .where('task_key', 'in', due)
        // Re-checked on the row itself, so two replicas racing for a row cannot both win it.
        .where(leaseFree(now))
        .returningAll()
        .execute()
    );
  }

  /** Leases one task whatever its schedule (Stop, Refresh); undefined while another owner holds it. */
  async lease(key: string, owner: string, now: number, leaseUntil: number): Promise<TaskRow | undefined> {
    const { db, prepared } = this.ctx;
    const r = await prepared.run(db, 'leaseTask', [key, owner, now, leaseUntil], (key, owner, now, leaseUntil) =>
      db
        .updateTable('tasks')
        .set({ lease_owner: owner, lease_until: leaseUntil, poked: 0 })
        .where('task_key', '=', key)
        // Not re-entrant: a round of this same engine holding the task counts as another holder.
        .where(leaseFree(now))
        .returningAll(),
    );
    return r.rows[0];
  }

  /** Extends `owner`'s leases on `keys`; resolves with the keys still its own (the others were taken over). */
  renew(keys: string[], owner: string, leaseUntil: number): Promise<string[]> {
    return renewLeases(this.ctx.db, 'tasks', keys, owner, leaseUntil);
  }

  /**
   * Writes the outcome of a round and releases the lease; a task poked meanwhile is due at `now`.
   * False when the lease was lost meanwhile.
   */
  async complete(key: string, owner: string, now: number, patch: TaskPatch): Promise<boolean> {
    const { db, prepared } = this.ctx;
    const set = Object.entries(patch).filter(([, v]) => v !== undefined);
    const columns = set.map(([k]) => k);
    const r = await prepared.run(db, `completeTask:${columns}`, [key, owner, now, ...set.map(([, v]) => v)], (key, owner, now, ...values) => {
      const p = Object.fromEntries(columns.map((c, i) => [c, values[i]])) as TaskPatch;
      return db
        .updateTable('tasks')
        .set((eb) => ({
          ...p,
          // Typed: a parameter in a CASE has no column to take its type from on PostgreSQL.
          ...(p.next_due_at !== undefined && {
            next_due_at: eb
              .case()
              .when('poked', '=', 1)
              .then(eb.cast<number>(eb.val(now), 'bigint'))
              .else(eb.cast<number>(eb.val(p.next_due_at), 'bigint'))
              .end(),
          }),
          poked: 0,
          lease_owner: null,
          lease_until: null,
        }))
        .where('task_key', '=', key)
        .where(leaseHeldBy(owner));
    });
    return Number(r.numAffectedRows ?? 0) > 0;
  }

  /** Someone wants the task looked at now: due at once, or right after the round that holds it. */
  async poke(key: string, now: number): Promise<void> {
    await this.ctx.db.updateTable('tasks').set({ poked: 1, next_due_at: now }).where('task_key', '=', key).execute();
  }

  /** Lets go of `owner`'s leases without changing anything else (shutdown). */
  async release(owner: string): Promise<void> {
    await this.ctx.db.updateTable('tasks').set({ lease_owner: null, lease_until: null }).where(leaseHeldBy(owner)).execute();
  }

  async get(key: string): Promise<TaskRow | undefined> {
    const { db, prepared } = this.ctx;
    return (await prepared.run(db, 'getTask', [key], (key) => db.selectFrom('tasks').selectAll().where('task_key', '=', key))).rows[0];
  }

  /** Refresh: the task is due now with its backoff reset, and polled faster for a while; `newWindow` starts a new 24 h window (it was idle). */
  async makeDue(key: string, now: number, backoffMs: number, newWindow: boolean): Promise<void> {
    await this.ctx.db
      .updateTable('tasks')
      .set({
        next_due_at: now,
        poked: 1,
        backoff_ms: backoffMs,
        interest_until: now + INTEREST_MS,
        ...(newWindow && { created_at: now, error_count: 0, last_error: null }),
      })
      .where('task_key', '=', key)
      .execute();
  }

  /**
   * Tasks whose owed writes wait in the card queue of a replica not seen within `goneAfterMs` (it
   * died) are due now, for a live one to send them.
   */
  async takeOverQueued(now: number, goneAfterMs: number): Promise<number> {
    const r = await this.ctx.db
      .updateTable('tasks')
      .set({ next_due_at: now, held_by: null })
      .where('held_by', 'is not', null)
      .where('held_by', 'not in', (eb) =>
        eb
          .selectFrom('replicas')
          .select('owner')
          .where('seen_at', '>=', now - goneAfterMs),
      )
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /** How many ended tasks whose cards still owe their last rendering each replica holds queued, per app. */
  async queuedFinals(): Promise<{ app: string; holder: string; tasks: number }[]> {
    const rows = await this.ctx.db
      .selectFrom('tasks')
      .select(['app', 'held_by', (eb) => eb.fn.countAll<number>().as('n')])
      .where('active', '=', 0)
      .where('pending', '=', 1)
      .where('held_by', 'is not', null)
      .groupBy(['app', 'held_by'])
      .execute();
    return rows.map((r) => ({ app: r.app, holder: r.held_by!, tasks: Number(r.n) }));
  }

  /**
   * Up to `limit` of the ended tasks of `app` whose finals wait in `from`'s queue — the last it
   * queued, the ones it would send last — and not being worked now, become `owner`'s, leased to it
   * until `leaseUntil`. The old holder skips them on their turn (held_by is not it).
   */
  async adoptQueued(app: string, from: string, owner: string, now: number, leaseUntil: number, limit: number): Promise<TaskRow[]> {
    const { db, dialect } = this.ctx;
    let theirs = db
      .selectFrom('tasks')
      .select('task_key')
      .where('app', '=', app)
      .where('active', '=', 0)
      .where('pending', '=', 1)
      .where('held_by', '=', from)
      .where(leaseFree(now))
      .orderBy('next_due_at', 'desc')
      .limit(limit);
    if (dialect === 'postgres') theirs = theirs.forUpdate().skipLocked();
    return (
      db
        .updateTable('tasks')
        .set({ held_by: owner, lease_owner: owner, lease_until: leaseUntil, poked: 0 })
        .where('task_key', 'in', theirs)
        // Re-checked on the row: its holder may have sent it, or leased it for its turn, meanwhile.
        .where('held_by', '=', from)
        .where(leaseFree(now))
        .returningAll()
        .execute()
    );
  }

  /** Every task still polled, for metrics. */
  async countActive(): Promise<number> {
    const r = await this.ctx.db
      .selectFrom('tasks')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('active', '=', 1)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }
}

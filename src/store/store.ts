import type { Kysely, Selectable } from 'kysely';
import type { CardTable, Database, DigestTable, TaskTable } from './schema.js';

export type CardRow = Selectable<CardTable>;
export type TaskRow = Selectable<TaskTable>;
export type DigestRow = Selectable<DigestTable>;

export type CardStatus = 'active' | 'done' | 'stopped' | 'expired' | 'gone' | 'error';

/**
 * The persistent state: cards and the tasks they show, digests, leases and dedupe keys.
 * One implementation over kysely serves SQLite and PostgreSQL with the same queries;
 * only the row locking hint differs (PostgreSQL skips rows another replica is claiming).
 */
export class Store {
  constructor(
    readonly db: Kysely<Database>,
    readonly dialect: 'sqlite' | 'postgres',
  ) {}

  async close(): Promise<void> {
    await this.db.destroy();
  }

  /** A cheap round trip: is the database reachable? */
  async ping(): Promise<void> {
    await this.db.selectFrom('dedupe').select('key').limit(1).execute();
  }

  // ---- dedupe -------------------------------------------------------------

  /** Claims `key` for `ttlMs`; false when someone already holds an unexpired claim. Atomic. */
  async claimOnce(key: string, now: number, ttlMs: number): Promise<boolean> {
    const r = await this.db
      .insertInto('dedupe')
      .values({ key, expires_at: now + ttlMs })
      .onConflict((oc) => oc.column('key').doUpdateSet({ expires_at: now + ttlMs }).where('dedupe.expires_at', '<', now))
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async purgeExpired(now: number): Promise<number> {
    const r = await this.db.deleteFrom('dedupe').where('expires_at', '<', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  // ---- tasks and cards ----------------------------------------------------

  /**
   * Records a new card and the task it shows. An existing task keeps its schedule while it
   * is being watched; an idle one is woken with the fresh snapshot and a new 24 h window.
   */
  async addCard(card: Omit<CardRow, 'rendered_hash' | 'last_update_at' | 'meta'> & Partial<CardRow>, task: Omit<TaskRow, 'lease_owner' | 'lease_until' | 'error_count' | 'last_error'>): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const existing = await tx.selectFrom('tasks').select(['active']).where('task_key', '=', task.task_key).executeTakeFirst();
      if (!existing) {
        await tx.insertInto('tasks').values({ ...task, error_count: 0, last_error: null, lease_owner: null, lease_until: null }).execute();
      } else if (!existing.active || !task.active) {
        await tx
          .updateTable('tasks')
          .set({
            snapshot: task.snapshot,
            snapshot_hash: task.snapshot_hash,
            active: task.active,
            next_due_at: task.next_due_at,
            backoff_ms: task.backoff_ms,
            ...(task.operator && { operator: task.operator }),
            ...(!existing.active && { created_at: task.created_at, error_count: 0, last_error: null }),
            last_changed_at: task.last_changed_at,
          })
          .where('task_key', '=', task.task_key)
          .execute();
      }
      await tx
        .insertInto('cards')
        .values({ rendered_hash: null, last_update_at: null, meta: null, ...card })
        .onConflict((oc) => oc.column('card_key').doUpdateSet({ task_key: card.task_key, status: card.status, rendered_hash: card.rendered_hash ?? null }))
        .execute();
    });
  }

  /** Leases up to `limit` due tasks (or just `onlyKey`) to `owner` until `leaseUntil`; rows another owner holds are skipped. */
  async claimDueTasks(owner: string, now: number, leaseUntil: number, limit: number, onlyKey?: string): Promise<TaskRow[]> {
    let due = this.db
      .selectFrom('tasks')
      .select('task_key')
      .where('active', '=', 1)
      .where('next_due_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .orderBy('next_due_at')
      .limit(limit);
    if (onlyKey !== undefined) due = due.where('task_key', '=', onlyKey);
    if (this.dialect === 'postgres') due = due.forUpdate().skipLocked();
    return this.db
      .updateTable('tasks')
      .set({ lease_owner: owner, lease_until: leaseUntil })
      .where('task_key', 'in', due)
      // Re-checked on the row itself, so two replicas racing for a row cannot both win it.
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .returningAll()
      .execute();
  }

  async renewTaskLeases(keys: string[], owner: string, leaseUntil: number): Promise<void> {
    if (keys.length === 0) return;
    await this.db.updateTable('tasks').set({ lease_until: leaseUntil }).where('task_key', 'in', keys).where('lease_owner', '=', owner).execute();
  }

  /** Writes the outcome of a poll and releases the lease; false when the lease was lost meanwhile. */
  async completeTask(
    key: string,
    owner: string,
    patch: Partial<Pick<TaskRow, 'snapshot' | 'snapshot_hash' | 'active' | 'next_due_at' | 'backoff_ms' | 'last_changed_at' | 'error_count' | 'last_error'>>,
  ): Promise<boolean> {
    const r = await this.db
      .updateTable('tasks')
      .set({ ...patch, lease_owner: null, lease_until: null })
      .where('task_key', '=', key)
      .where('lease_owner', '=', owner)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Lets go of leases without changing anything else (shutdown). */
  async releaseTaskLeases(owner: string): Promise<void> {
    await this.db.updateTable('tasks').set({ lease_owner: null, lease_until: null }).where('lease_owner', '=', owner).execute();
    await this.db.updateTable('digests').set({ lease_owner: null, lease_until: null }).where('lease_owner', '=', owner).execute();
  }

  getTask(key: string): Promise<TaskRow | undefined> {
    return this.db.selectFrom('tasks').selectAll().where('task_key', '=', key).executeTakeFirst();
  }

  /** Makes a task due now (Refresh) with the backoff reset; an idle task starts a new 24 h window. */
  async makeDue(key: string, now: number, backoffMs: number): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const t = await tx.selectFrom('tasks').select('active').where('task_key', '=', key).executeTakeFirst();
      if (!t) return;
      await tx
        .updateTable('tasks')
        .set({ next_due_at: now, backoff_ms: backoffMs, active: 1, ...(!t.active && { created_at: now, error_count: 0 }) })
        .where('task_key', '=', key)
        .execute();
    });
  }

  activeCards(taskKey: string): Promise<CardRow[]> {
    return this.db.selectFrom('cards').selectAll().where('task_key', '=', taskKey).where('status', '=', 'active').execute();
  }

  getCard(cardKey: string): Promise<CardRow | undefined> {
    return this.db.selectFrom('cards').selectAll().where('card_key', '=', cardKey).executeTakeFirst();
  }

  async updateCard(cardKey: string, patch: Partial<Pick<CardRow, 'status' | 'rendered_hash' | 'last_update_at' | 'meta'>>): Promise<void> {
    await this.db.updateTable('cards').set(patch).where('card_key', '=', cardKey).execute();
  }

  /** Cards of one chat with their task rows, newest first. */
  cardsInChat(platform: string, chatId: string, since = 0): Promise<(CardRow & Pick<TaskRow, 'snapshot' | 'last_changed_at' | 'active'>)[]> {
    return this.db
      .selectFrom('cards')
      .innerJoin('tasks', 'tasks.task_key', 'cards.task_key')
      .selectAll('cards')
      .select(['tasks.snapshot', 'tasks.last_changed_at', 'tasks.active'])
      .where('cards.platform', '=', platform)
      .where('cards.chat_id', '=', chatId)
      .where((eb) => eb.or([eb('cards.created_at', '>=', since), eb('tasks.last_changed_at', '>=', since), eb('cards.status', '=', 'active')]))
      .orderBy('cards.created_at', 'desc')
      .execute();
  }

  /** Turns the task off when no card wants it any more. */
  async deactivateIfUnwatched(taskKey: string): Promise<void> {
    const left = await this.db
      .selectFrom('cards')
      .select('card_key')
      .where('task_key', '=', taskKey)
      .where('status', '=', 'active')
      .limit(1)
      .executeTakeFirst();
    if (!left) await this.db.updateTable('tasks').set({ active: 0 }).where('task_key', '=', taskKey).execute();
  }

  /** Every card still updated, for metrics and resumption checks. */
  async countActiveCards(): Promise<number> {
    const r = await this.db.selectFrom('cards').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'active').executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** Every task still polled, for metrics. */
  async countActiveTasks(): Promise<number> {
    const r = await this.db.selectFrom('tasks').select((eb) => eb.fn.countAll<number>().as('n')).where('active', '=', 1).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  // ---- digests ------------------------------------------------------------

  /** A send failed: the firing stays due, and is claimable again (by any replica) from `notBefore`. */
  async retryDigest(chatKey: string, owner: string, failedAttempts: number, notBefore: number): Promise<void> {
    await this.db
      .updateTable('digests')
      .set({ failed_attempts: failedAttempts, lease_owner: null, lease_until: notBefore })
      .where('chat_key', '=', chatKey)
      .where('lease_owner', '=', owner)
      .execute();
  }

  async upsertDigest(d: Omit<DigestRow, 'lease_owner' | 'lease_until' | 'failed_attempts'>): Promise<void> {
    await this.db
      .insertInto('digests')
      .values({ ...d, lease_owner: null, lease_until: null })
      .onConflict((oc) =>
        oc.column('chat_key').doUpdateSet({ cron: d.cron, time_zone: d.time_zone, locale: d.locale, spec: d.spec, next_fire_at: d.next_fire_at, failed_attempts: 0 }),
      )
      .execute();
  }

  async deleteDigest(chatKey: string): Promise<boolean> {
    const r = await this.db.deleteFrom('digests').where('chat_key', '=', chatKey).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  getDigest(chatKey: string): Promise<DigestRow | undefined> {
    return this.db.selectFrom('digests').selectAll().where('chat_key', '=', chatKey).executeTakeFirst();
  }

  async claimDueDigests(owner: string, now: number, leaseUntil: number): Promise<DigestRow[]> {
    let due = this.db
      .selectFrom('digests')
      .select('chat_key')
      .where('next_fire_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]));
    if (this.dialect === 'postgres') due = due.forUpdate().skipLocked();
    return this.db
      .updateTable('digests')
      .set({ lease_owner: owner, lease_until: leaseUntil })
      .where('chat_key', 'in', due)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .returningAll()
      .execute();
  }

  /** Records a firing that was sent (or a skip) and releases the lease; false when the lease was lost. */
  async completeDigest(chatKey: string, owner: string, lastFiredAt: number | null, nextFireAt: number): Promise<boolean> {
    const r = await this.db
      .updateTable('digests')
      .set({ ...(lastFiredAt !== null && { last_fired_at: lastFiredAt }), next_fire_at: nextFireAt, failed_attempts: 0, lease_owner: null, lease_until: null })
      .where('chat_key', '=', chatKey)
      .where('lease_owner', '=', owner)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }
}

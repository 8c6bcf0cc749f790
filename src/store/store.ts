import type { ExpressionBuilder, Kysely, Selectable } from 'kysely';
import type { CardStatus } from '../domain/card-status.js';
import { PreparedQueries } from './prepared.js';
import type { CardTable, Database, DigestTable, TaskTable } from './schema.js';

export type CardRow = Selectable<CardTable>;
export type TaskRow = Selectable<TaskTable>;
export type DigestRow = Selectable<DigestTable>;

export type NewCard = Omit<CardRow, 'rendered_hash' | 'last_update_at' | 'meta' | 'shown' | 'fail_count' | 'retry_at' | 'title'> & Partial<Pick<CardRow, 'rendered_hash' | 'last_update_at' | 'meta' | 'title'>>;
export type NewTask = Omit<TaskRow, 'lease_owner' | 'lease_until' | 'error_count' | 'last_error' | 'active' | 'pending' | 'poked' | 'history' | 'interest_until'> & Partial<Pick<TaskRow, 'history'>>;
/** How long a Refresh or a repeated `status` makes its task poll faster. */
export const INTEREST_MS = 3 * 60_000;

/** A card with the number of people waiting for its task to end. */
export type WatchedCard = CardRow & { waiting: number };
type CardPatch = Partial<Pick<CardRow, 'shown' | 'rendered_hash' | 'last_update_at' | 'fail_count' | 'retry_at'>>;
type TaskPatch = Partial<Pick<TaskRow, 'snapshot' | 'snapshot_hash' | 'next_due_at' | 'backoff_ms' | 'last_changed_at' | 'error_count' | 'last_error' | 'history'>>;

/**
 * The persistent state: cards and the tasks they show, digests, leases and dedupe keys.
 * One implementation over kysely serves SQLite and PostgreSQL with the same queries;
 * only the row locking hint differs (PostgreSQL skips rows another replica is claiming).
 */
export class Store {
  private readonly prepared = new PreparedQueries();

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

  /** Deletes expired dedupe keys and script API idempotency keys. */
  async purgeExpired(now: number): Promise<number> {
    const r = await this.db.deleteFrom('dedupe').where('expires_at', '<', now).executeTakeFirst();
    const a = await this.db.deleteFrom('api_requests').where('expires_at', '<', now).executeTakeFirst();
    return Number(r.numDeletedRows) + Number(a.numDeletedRows);
  }

  // ---- tasks and cards ----------------------------------------------------
  // Card statuses change only through transitionCard (called from watch/lifecycle.ts); every card
  // write that can change what a task needs runs in one transaction with syncTask, so a task is
  // active exactly while it has an active card, and pending while an ended card owes a send.

  /**
   * Records a new card and the task it shows. An existing task keeps its schedule while it is
   * watched; an idle one is woken with the fresh snapshot and a new 24 h window. A finished
   * snapshot is news for the task's other cards: it is stored and the task made due at once.
   */
  async addCard(card: NewCard, task: NewTask, terminal: boolean): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      // Two `status` commands for one new task at once: one inserts, the other waits on the row and updates it.
      const inserted = await tx
        .insertInto('tasks')
        .values({ history: null, interest_until: null, ...task, active: 0, error_count: 0, last_error: null, lease_owner: null, lease_until: null })
        .onConflict((oc) => oc.column('task_key').doNothing())
        .executeTakeFirst();
      const existing = Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0 ? undefined : await this.lockTask(tx, task.task_key);
      // Asked for again while watched: someone is looking, poll it faster for a while.
      if (existing?.active) await tx.updateTable('tasks').set({ interest_until: task.created_at + INTEREST_MS }).where('task_key', '=', task.task_key).execute();
      if (existing && (!existing.active || terminal)) {
        await tx
          .updateTable('tasks')
          .set({
            snapshot: task.snapshot,
            snapshot_hash: task.snapshot_hash,
            next_due_at: terminal ? task.created_at : task.next_due_at,
            poked: terminal ? 1 : 0,
            backoff_ms: task.backoff_ms,
            ...(task.operator && { operator: task.operator }),
            ...(!existing.active && { created_at: task.created_at, error_count: 0, last_error: null, history: task.history ?? null }),
            last_changed_at: task.last_changed_at,
          })
          .where('task_key', '=', task.task_key)
          .execute();
      }
      await tx
        .insertInto('cards')
        .values({ rendered_hash: null, last_update_at: null, meta: null, retry_at: null, title: null, ...card, shown: card.status })
        .onConflict((oc) => oc.column('card_key').doUpdateSet({ task_key: card.task_key, status: card.status, shown: card.status, rendered_hash: card.rendered_hash ?? null }))
        .execute();
      await this.syncTask(tx, task.task_key);
    });
  }

  /**
   * Moves a card from one of `from` to `to` (with `patch`), only if it is in one of them now.
   * Returns the card as written, or undefined when the card was elsewhere: the caller lost.
   */
  async transitionCard(key: string, from: readonly CardStatus[], to: CardStatus, patch: CardPatch = {}): Promise<CardRow | undefined> {
    const r = await this.cardWrite(key, async (tx, taskKey) => {
      const row = await tx
        .updateTable('cards')
        .set({ ...patch, status: to })
        .where('card_key', '=', key)
        .where('status', 'in', [...from])
        .returningAll()
        .executeTakeFirst();
      if (row) await this.syncTask(tx, taskKey);
      return row;
    });
    return r ?? undefined;
  }

  /**
   * The platform took the rendering of `status` (written by the lease holder, the only sender, so
   * it is a fact whatever the status is now). True when the card is still in `status`; false when
   * it moved meanwhile and now owes the rendering of its new status. `only` writes nothing unless
   * the card is `still` in `status` (and, with `news`, does not show this rendering already).
   */
  async recordShown(key: string, status: CardStatus, hash: string, at: number, only?: 'still' | 'news'): Promise<boolean> {
    const shown = await this.cardWrite(key, async (tx, taskKey) => {
      const r = await this.prepared.run(tx, `recordShown:${only}`, [status, hash, at, key], (status, hash, at, key) =>
        tx
          .updateTable('cards')
          .set({ shown: status, rendered_hash: hash, last_update_at: at, fail_count: 0, retry_at: null })
          .where('card_key', '=', key)
          // An inline answer not given yet is recorded only if it still fits (else it is not given)
          // and, for a Stop, is news: two presses at once must not both draw the stopped card.
          .$if(only !== undefined, (q) => q.where('status', '=', status))
          .$if(only === 'news', (q) => q.where((eb) => eb.or([eb('shown', 'is', null), eb('shown', '!=', status), eb('rendered_hash', 'is', null), eb('rendered_hash', '!=', hash)])))
          .returning('status'),
      );
      await this.syncTask(tx, taskKey);
      return r.rows[0]?.status === status;
    });
    return shown === true;
  }

  /** An inline answer with `hash` never reached the platform: the card owes it again, and its task is due. */
  async forgetShown(key: string, hash: string, now: number): Promise<void> {
    await this.cardWrite(key, async (tx, taskKey) => {
      await tx.updateTable('cards').set({ shown: null, rendered_hash: null }).where('card_key', '=', key).where('rendered_hash', '=', hash).execute();
      await this.syncTask(tx, taskKey);
      await tx.updateTable('tasks').set({ poked: 1, next_due_at: now }).where('task_key', '=', taskKey).execute();
    });
  }

  /** A send to this card failed and may work later. */
  async recordCardFailure(key: string, failCount: number, retryAt: number): Promise<void> {
    await this.db.updateTable('cards').set({ fail_count: failCount, retry_at: retryAt }).where('card_key', '=', key).execute();
  }

  /** The task's flags from its cards: active while one is active, pending while an ended one owes a send. */
  private async syncTask(tx: Kysely<Database>, taskKey: string): Promise<void> {
    await this.prepared.run(tx, 'syncTask', [taskKey], (taskKey) =>
      tx
        .updateTable('tasks')
        .set((eb) => ({
          active: eb.case().when(eb.exists(eb.selectFrom('cards').select('card_key').where('cards.task_key', '=', taskKey).where('cards.status', '=', 'active'))).then(1).else(0).end(),
          pending: eb
            .case()
            .when(
              eb.exists(
                eb
                  .selectFrom('cards')
                  .select('card_key')
                  .where('cards.task_key', '=', taskKey)
                  .where('cards.status', 'not in', ['active', 'gone'])
                  .where((c) => c.or([c('cards.shown', 'is', null), c('cards.shown', '!=', c.ref('cards.status')), c.and([c('cards.status', '=', 'done'), c.exists(owed(c))])])),
              ),
            )
            .then(1)
            .else(0)
            .end(),
        }))
        .where('task_key', '=', taskKey),
    );
  }

  /** Runs `write` in a transaction holding the card's task (null when there is no such card). */
  private cardWrite<T>(key: string, write: (tx: Kysely<Database>, taskKey: string) => Promise<T>): Promise<T | null> {
    return this.db.transaction().execute(async (tx) => {
      const card = (await this.prepared.run(tx, 'cardTask', [key], (key) => tx.selectFrom('cards').select('task_key').where('card_key', '=', key))).rows[0];
      if (!card) return null;
      await this.lockTask(tx, card.task_key);
      return write(tx, card.task_key);
    });
  }

  /** Serialises card writes of one task: on PostgreSQL by locking its row (SQLite runs one writer at a time). */
  private async lockTask(tx: Kysely<Database>, taskKey: string): Promise<Pick<TaskRow, 'active'> | undefined> {
    const r = await this.prepared.run(tx, 'lockTask', [taskKey], (taskKey) => {
      const q = tx.selectFrom('tasks').select('active').where('task_key', '=', taskKey);
      return this.dialect === 'postgres' ? q.forUpdate() : q;
    });
    return r.rows[0];
  }

  /** Leases up to `limit` due tasks that have work (or just `onlyKey`) to `owner` until `leaseUntil`; rows another owner holds are skipped. */
  async claimDueTasks(owner: string, now: number, leaseUntil: number, limit: number): Promise<TaskRow[]> {
    let due = this.db
      .selectFrom('tasks')
      .select('task_key')
      .where((eb) => eb.or([eb('active', '=', 1), eb('pending', '=', 1)]))
      .where('next_due_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .orderBy('next_due_at')
      .limit(limit);
    if (this.dialect === 'postgres') due = due.forUpdate().skipLocked();
    return this.db
      .updateTable('tasks')
      .set({ lease_owner: owner, lease_until: leaseUntil, poked: 0 })
      .where('task_key', 'in', due)
      // Re-checked on the row itself, so two replicas racing for a row cannot both win it.
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .returningAll()
      .execute();
  }

  /** Leases one task whatever its schedule (Stop, Refresh); undefined while another owner holds it. */
  async leaseTask(key: string, owner: string, now: number, leaseUntil: number): Promise<TaskRow | undefined> {
    const r = await this.prepared.run(this.db, 'leaseTask', [key, owner, now, leaseUntil], (key, owner, now, leaseUntil) =>
      this.db
        .updateTable('tasks')
        .set({ lease_owner: owner, lease_until: leaseUntil, poked: 0 })
        .where('task_key', '=', key)
        // Not re-entrant: a round of this same engine holding the task counts as another holder.
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
        .returningAll(),
    );
    return r.rows[0];
  }

  async renewTaskLeases(keys: string[], owner: string, leaseUntil: number): Promise<void> {
    if (keys.length === 0) return;
    await this.db.updateTable('tasks').set({ lease_until: leaseUntil }).where('task_key', 'in', keys).where('lease_owner', '=', owner).execute();
  }

  /**
   * Writes the outcome of a round and releases the lease; a task poked meanwhile is due at `now`.
   * False when the lease was lost meanwhile.
   */
  async completeTask(key: string, owner: string, now: number, patch: TaskPatch): Promise<boolean> {
    const set = Object.entries(patch).filter(([, v]) => v !== undefined);
    const columns = set.map(([k]) => k);
    const r = await this.prepared.run(this.db, `completeTask:${columns}`, [key, owner, now, ...set.map(([, v]) => v)], (key, owner, now, ...values) => {
      const p = Object.fromEntries(columns.map((c, i) => [c, values[i]])) as TaskPatch;
      return this.db
        .updateTable('tasks')
        .set((eb) => ({
          ...p,
          // Typed: a parameter in a CASE has no column to take its type from on PostgreSQL.
          ...(p.next_due_at !== undefined && { next_due_at: eb.case().when('poked', '=', 1).then(eb.cast<number>(eb.val(now), 'bigint')).else(eb.cast<number>(eb.val(p.next_due_at), 'bigint')).end() }),
          poked: 0,
          lease_owner: null,
          lease_until: null,
        }))
        .where('task_key', '=', key)
        .where('lease_owner', '=', owner);
    });
    return Number(r.numAffectedRows ?? 0) > 0;
  }

  /** Someone wants the task looked at now: due at once, or right after the round that holds it. */
  async poke(key: string, now: number): Promise<void> {
    await this.db.updateTable('tasks').set({ poked: 1, next_due_at: now }).where('task_key', '=', key).execute();
  }

  /** Lets go of leases without changing anything else (shutdown). */
  async releaseTaskLeases(owner: string): Promise<void> {
    await this.db.updateTable('tasks').set({ lease_owner: null, lease_until: null }).where('lease_owner', '=', owner).execute();
    await this.db.updateTable('digests').set({ lease_owner: null, lease_until: null }).where('lease_owner', '=', owner).execute();
  }

  async getTask(key: string): Promise<TaskRow | undefined> {
    return (await this.prepared.run(this.db, 'getTask', [key], (key) => this.db.selectFrom('tasks').selectAll().where('task_key', '=', key))).rows[0];
  }

  /** Refresh: the task is due now with its backoff reset, and polled faster for a while; `newWindow` starts a new 24 h window (it was idle). */
  async makeDue(key: string, now: number, backoffMs: number, newWindow: boolean): Promise<void> {
    await this.db
      .updateTable('tasks')
      .set({ next_due_at: now, poked: 1, backoff_ms: backoffMs, interest_until: now + INTEREST_MS, ...(newWindow && { created_at: now, error_count: 0, last_error: null }) })
      .where('task_key', '=', key)
      .execute();
  }

  /** The cards a round works on: active ones, and ended ones that still owe their last rendering or a finished task's mentions. */
  async workCards(taskKey: string, only?: readonly string[]): Promise<WatchedCard[]> {
    const keys = only && (only.length > 0 ? only : ['']);
    const r = await this.prepared.run(this.db, `workCards:${keys?.length}`, [taskKey, ...(keys ?? [])], (taskKey, ...keys) => {
      const q = this.watchedCards().where('task_key', '=', taskKey);
      return (only ? q.where('card_key', 'in', keys) : q).where((eb) =>
        eb.or([
          eb('status', '=', 'active'),
          eb.and([eb('status', '!=', 'gone'), eb.or([eb('shown', 'is', null), eb('shown', '!=', eb.ref('status')), eb.and([eb('status', '=', 'done'), eb.exists(owed(eb))])])]),
        ]),
      );
    });
    return r.rows.map(withWaiting);
  }

  async getCard(cardKey: string): Promise<WatchedCard | undefined> {
    const row = (await this.prepared.run(this.db, 'getCard', [cardKey], (key) => this.watchedCards().where('card_key', '=', key))).rows[0];
    return row && withWaiting(row);
  }

  private watchedCards() {
    return this.db
      .selectFrom('cards')
      .selectAll()
      .select((eb) => eb.selectFrom('subscribers').select(eb.fn.countAll<number | string>().as('n')).whereRef('subscribers.card_key', '=', 'cards.card_key').where('subscribers.notified_at', 'is', null).as('waiting'));
  }

  // ---- people waiting for a task's end ----------------------------------

  /**
   * Adds `userId` to the people waiting on an active card, or takes them off when they were on it
   * already (the button toggles). Undefined when the card is not active (nothing to wait for).
   */
  async toggleSubscriber(cardKey: string, userId: string, now: number, only?: 'on'): Promise<'on' | 'off' | undefined> {
    const r = await this.cardWrite(cardKey, async (tx) => {
      const card = await tx.selectFrom('cards').select('status').where('card_key', '=', cardKey).executeTakeFirst();
      if (card?.status !== 'active') return undefined;
      const had = await tx.selectFrom('subscribers').select('notified_at').where('card_key', '=', cardKey).where('user_id', '=', userId).executeTakeFirst();
      if (had && had.notified_at === null && only !== 'on') {
        await tx.deleteFrom('subscribers').where('card_key', '=', cardKey).where('user_id', '=', userId).execute();
        return 'off' as const;
      }
      await tx
        .insertInto('subscribers')
        .values({ card_key: cardKey, user_id: userId, created_at: now, notified_at: null })
        .onConflict((oc) => oc.columns(['card_key', 'user_id']).doUpdateSet({ created_at: now, notified_at: null }))
        .execute();
      return 'on' as const;
    });
    return r ?? undefined;
  }

  /** The people a card still owes a mention, in the order they asked. */
  async owedSubscribers(cardKey: string): Promise<string[]> {
    const rows = await this.db.selectFrom('subscribers').select('user_id').where('card_key', '=', cardKey).where('notified_at', 'is', null).orderBy('created_at').orderBy('user_id').execute();
    return rows.map((r) => r.user_id);
  }

  /** The mention of `userIds` went out (or was given up): they are owed nothing more. */
  async markNotified(cardKey: string, userIds: string[], at: number): Promise<void> {
    if (userIds.length === 0) return;
    await this.cardWrite(cardKey, async (tx, taskKey) => {
      await tx.updateTable('subscribers').set({ notified_at: at }).where('card_key', '=', cardKey).where('user_id', 'in', userIds).where('notified_at', 'is', null).execute();
      await this.syncTask(tx, taskKey);
    });
  }

  /** Cards of one chat with their task rows, newest first: the active ones and the `limit` newest since `since`. */
  cardsInChat(platform: string, chatId: string, since = 0, limit = 50): Promise<(CardRow & Pick<TaskRow, 'snapshot' | 'last_changed_at' | 'active'>)[]> {
    return this.db
      .selectFrom('cards')
      .innerJoin('tasks', 'tasks.task_key', 'cards.task_key')
      .selectAll('cards')
      .select(['tasks.snapshot', 'tasks.last_changed_at', 'tasks.active'])
      .where('cards.platform', '=', platform as CardRow['platform'])
      .where('cards.chat_id', '=', chatId)
      .where((eb) => eb.or([eb('cards.created_at', '>=', since), eb('cards.status', '=', 'active')]))
      .orderBy('cards.created_at', 'desc')
      .limit(limit)
      .execute();
  }

  /** Deletes ended cards created before `before` (with their subscribers), then tasks no card shows any more. */
  async prune(before: number): Promise<{ cards: number; tasks: number }> {
    const old = (eb: ExpressionBuilder<Database, 'cards'>) => eb.and([eb('status', '!=', 'active'), eb('created_at', '<', before)]);
    await this.db
      .deleteFrom('subscribers')
      .where('card_key', 'in', (eb) => eb.selectFrom('cards').select('card_key').where((c) => old(c)))
      .execute();
    const c = await this.db.deleteFrom('cards').where((eb) => old(eb)).executeTakeFirst();
    const t = await this.db
      .deleteFrom('tasks')
      .where('active', '=', 0)
      .where('pending', '=', 0)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('cards').select('card_key').whereRef('cards.task_key', '=', 'tasks.task_key'))))
      .executeTakeFirst();
    return { cards: Number(c.numDeletedRows), tasks: Number(t.numDeletedRows) };
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

  // ---- replicas -----------------------------------------------------------

  /** `owner` is alive at `now`; resolves with how many replicas were seen within `ttlMs` (it included). */
  async heartbeat(owner: string, now: number, ttlMs: number): Promise<number> {
    await this.db
      .insertInto('replicas')
      .values({ owner, seen_at: now })
      .onConflict((oc) => oc.column('owner').doUpdateSet({ seen_at: now }))
      .execute();
    // Replicas gone for a day are forgotten (a crash leaves its row behind).
    await this.db.deleteFrom('replicas').where('seen_at', '<', now - 86_400_000).execute();
    const r = await this.db.selectFrom('replicas').select((eb) => eb.fn.countAll<number | string>().as('n')).where('seen_at', '>=', now - ttlMs).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** `owner` is going away: the others take its share at their next heartbeat. */
  async leave(owner: string): Promise<void> {
    await this.db.deleteFrom('replicas').where('owner', '=', owner).execute();
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

/** Subscribers of the card in scope still waiting for their mention. */
function owed(eb: ExpressionBuilder<Database, 'cards'>) {
  return eb.selectFrom('subscribers').select('subscribers.card_key').whereRef('subscribers.card_key', '=', 'cards.card_key').where('subscribers.notified_at', 'is', null);
}

function withWaiting<T extends CardRow & { waiting: number | string | null }>(row: T): WatchedCard {
  return { ...row, waiting: Number(row.waiting ?? 0) };
}

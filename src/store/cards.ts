import { sql, type SelectQueryBuilder } from 'kysely';
import type { CardStatus } from '../domain/card-status.js';
import { snapshotFromJson } from '../domain/snapshot-json.js';
import type { TaskSnapshot } from '../domain/task.js';
import type { CardRow, StoreContext, TaskRow } from './store-context.js';
import type { Database } from './schema.js';
import { cardWrite, endedOwes, lockTask, syncTask } from './task-flags.js';
import { INTEREST_MS } from './tasks.js';

export type NewCard = Omit<
  CardRow,
  'rendered_hash' | 'last_update_at' | 'meta' | 'shown' | 'fail_count' | 'retry_at' | 'title' | 'last_error' | 'asked_by' | 'pinned'
> &
  Partial<Pick<CardRow, 'rendered_hash' | 'last_update_at' | 'meta' | 'title' | 'asked_by'>>;
export type NewTask = Omit<
  TaskRow,
  'lease_owner' | 'lease_until' | 'error_count' | 'last_error' | 'active' | 'pending' | 'poked' | 'history' | 'interest_until' | 'held_by'
> &
  Partial<Pick<TaskRow, 'history'>>;
/** A card with the number of people waiting for its task to end, and whether its chat wants live cards pinned. */
export type WatchedCard = CardRow & { waiting: number; pin_chat: boolean };
type CardWithTask = CardRow & Pick<TaskRow, 'snapshot' | 'last_changed_at' | 'active'>;
type CardPatch = Partial<Pick<CardRow, 'shown' | 'rendered_hash' | 'last_update_at' | 'fail_count' | 'retry_at'>>;

/**
 * The cards taskbot keeps up to date. Statuses change only through transition (called from
 * watch/lifecycle.ts); every write that can change what a task needs keeps its flags in step
 * (task-flags.ts).
 */
export class CardStore {
  constructor(private readonly ctx: StoreContext) {}

  /**
   * Records a new card and the task it shows. An existing task keeps its schedule while it is
   * watched; an idle one is woken with the fresh snapshot and a new 24 h window. A finished
   * snapshot is news for the task's other cards: it is stored and the task made due at once.
   */
  async add(card: NewCard, task: NewTask, terminal: boolean): Promise<void> {
    // Run for every `status`: its inserts are prepared (prepared.ts).
    await this.ctx.db.transaction().execute(async (tx) => {
      // Two `status` commands for one new task at once: one inserts, the other waits on the row and updates it.
      const inserted = await this.ctx.prepared.insert(
        tx,
        'tasks',
        { history: null, interest_until: null, ...task, active: 0, error_count: 0, last_error: null, lease_owner: null, lease_until: null, held_by: null },
        { key: 'task_key' },
      );
      const existing = Number(inserted.numAffectedRows ?? 0) > 0 ? undefined : await lockTask(this.ctx, tx, task.task_key);
      // Asked for again while watched: someone is looking, poll it faster for a while.
      if (existing?.active)
        await tx
          .updateTable('tasks')
          .set({ interest_until: task.created_at + INTEREST_MS })
          .where('task_key', '=', task.task_key)
          .execute();
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
      await this.ctx.prepared.insert(
        tx,
        'cards',
        {
          rendered_hash: null,
          last_update_at: null,
          meta: null,
          retry_at: null,
          title: null,
          last_error: null,
          asked_by: null,
          pinned: null,
          ...card,
          shown: card.status,
        },
        { key: 'card_key', update: ['task_key', 'status', 'shown', 'rendered_hash'] },
      );
      await syncTask(this.ctx, tx, task.task_key);
    });
  }

  /**
   * Moves a card from one of `from` to `to` (with `patch`), only if it is in one of them now.
   * Returns the card as written, or undefined when the card was elsewhere: the caller lost.
   */
  async transition(key: string, from: readonly CardStatus[], to: CardStatus, patch: CardPatch = {}): Promise<CardRow | undefined> {
    const r = await cardWrite(this.ctx, key, async (tx, taskKey) => {
      const row = await tx
        .updateTable('cards')
        .set({ ...patch, status: to })
        .where('card_key', '=', key)
        .where('status', 'in', [...from])
        .returningAll()
        .executeTakeFirst();
      if (row) await syncTask(this.ctx, tx, taskKey);
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
    const shown = await cardWrite(this.ctx, key, async (tx, taskKey) => {
      const r = await this.ctx.prepared.run(tx, `recordShown:${only}`, [status, hash, at, key], (status, hash, at, key) =>
        tx
          .updateTable('cards')
          .set({ shown: status, rendered_hash: hash, last_update_at: at, fail_count: 0, retry_at: null, last_error: null })
          .where('card_key', '=', key)
          // An inline answer not given yet is recorded only if it still fits (else it is not given)
          // and, for a Stop, is news: two presses at once must not both draw the stopped card.
          .$if(only !== undefined, (q) => q.where('status', '=', status))
          .$if(only === 'news', (q) =>
            q.where((eb) => eb.or([eb('shown', 'is', null), eb('shown', '!=', status), eb('rendered_hash', 'is', null), eb('rendered_hash', '!=', hash)])),
          )
          .returning('status'),
      );
      await syncTask(this.ctx, tx, taskKey);
      return r.rows[0]?.status === status;
    });
    return shown === true;
  }

  /** An inline answer with `hash` never reached the platform: the card owes it again, and its task is due. */
  async forgetShown(key: string, hash: string, now: number): Promise<void> {
    await cardWrite(this.ctx, key, async (tx, taskKey) => {
      await tx.updateTable('cards').set({ shown: null, rendered_hash: null }).where('card_key', '=', key).where('rendered_hash', '=', hash).execute();
      await syncTask(this.ctx, tx, taskKey);
      await tx.updateTable('tasks').set({ poked: 1, next_due_at: now }).where('task_key', '=', taskKey).execute();
    });
  }

  /** The platform pinned (1) or unpinned (0) the card; its task owes a round while an ended card stays pinned. */
  async recordPinned(key: string, pinned: 0 | 1): Promise<void> {
    await cardWrite(this.ctx, key, async (tx, taskKey) => {
      await tx.updateTable('cards').set({ pinned }).where('card_key', '=', key).execute();
      await syncTask(this.ctx, tx, taskKey);
    });
  }

  /** A send to this card failed and may work later; `needsAdmin` says what the admin must do first (null: nothing). */
  async recordFailure(key: string, failCount: number, retryAt: number, needsAdmin: string | null = null): Promise<void> {
    await this.ctx.db.updateTable('cards').set({ fail_count: failCount, retry_at: retryAt, last_error: needsAdmin }).where('card_key', '=', key).execute();
  }

  /** Cards waiting for the admin (a scope, an authorisation), counted by what they wait for: for `taskbot doctor`. */
  async waitingForAdmin(): Promise<{ problem: string; cards: number }[]> {
    const rows = await this.ctx.db
      .selectFrom('cards')
      .select(['last_error', (eb) => eb.fn.countAll<number | string>().as('n')])
      .where('last_error', 'is not', null)
      .where('status', '!=', 'gone')
      .groupBy('last_error')
      .execute();
    return rows.map((r) => ({ problem: r.last_error!, cards: Number(r.n) }));
  }

  /** The cards a round works on: active ones, and ended ones that still owe their last rendering or a finished task's mentions. */
  async work(taskKey: string, only?: readonly string[]): Promise<WatchedCard[]> {
    const keys = only && (only.length > 0 ? only : ['']);
    const r = await this.ctx.prepared.run(this.ctx.db, `workCards:${keys?.length}`, [taskKey, ...(keys ?? [])], (taskKey, ...keys) => {
      const q = this.watched().where('task_key', '=', taskKey);
      return (only ? q.where('card_key', 'in', keys) : q).where((eb) => eb.or([eb('status', '=', 'active'), endedOwes(eb)]));
    });
    return r.rows.map(withWaiting);
  }

  async get(cardKey: string): Promise<WatchedCard | undefined> {
    const row = (await this.ctx.prepared.run(this.ctx.db, 'getCard', [cardKey], (key) => this.watched().where('card_key', '=', key))).rows[0];
    return row && withWaiting(row);
  }

  /** A card as it is now, with its task's last snapshot (for scripts and the export). */
  async described(cardKey: string): Promise<{ card: WatchedCard; snapshot?: TaskSnapshot } | undefined> {
    const card = await this.get(cardKey);
    if (!card) return undefined;
    const task = await this.ctx.db.selectFrom('tasks').select('snapshot').where('task_key', '=', card.task_key).executeTakeFirst();
    return { card, ...(task && { snapshot: snapshotFromJson(task.snapshot) }) };
  }

  private watched() {
    return (
      this.ctx.db
        .selectFrom('cards')
        .selectAll()
        .select((eb) =>
          eb
            .selectFrom('subscribers')
            .select(eb.fn.countAll<number | string>().as('n'))
            .whereRef('subscribers.card_key', '=', 'cards.card_key')
            .where('subscribers.notified_at', 'is', null)
            .as('waiting'),
        )
        // The chat's `pin on`, unless pinning there waits for the admin (chat_key is `app:chat_id`).
        .select((eb) =>
          eb
            .selectFrom('chat_settings')
            .select('chat_settings.pin')
            .where('chat_settings.chat_key', '=', sql<string>`cards.app || ':' || cards.chat_id`)
            .where('chat_settings.pin_blocked', 'is', null)
            .as('pin_chat'),
        )
    );
  }

  /**
   * The cards of one chat (or one person's, with `askedBy`) with their task rows, newest first, for
   * `list`, `mine` and digests: every active card, however many came after it, then the newest
   * `endedLimit` ended ones created since `since`. `tasks` counts the distinct tasks of all of them.
   */
  async overview(f: { app: string; chatId?: string; askedBy?: string; since?: number; endedLimit: number }): Promise<{ cards: CardWithTask[]; tasks: number }> {
    const since = f.since ?? 0;
    const scoped = <Q extends SelectQueryBuilder<Database, 'cards' | 'tasks', object>>(q: Q): Q =>
      q
        .where('cards.app', '=', f.app)
        .$if(f.chatId !== undefined, (w) => w.where('cards.chat_id', '=', f.chatId!))
        .$if(f.askedBy !== undefined, (w) => w.where('cards.asked_by', '=', f.askedBy!)) as Q;
    const [active, ended, count] = await Promise.all([
      scoped(this.withTasks()).where('cards.status', '=', 'active').execute(),
      scoped(this.withTasks()).where('cards.status', '!=', 'active').where('cards.created_at', '>=', since).limit(f.endedLimit).execute(),
      scoped(this.ctx.db.selectFrom('cards').innerJoin('tasks', 'tasks.task_key', 'cards.task_key'))
        .select((eb) => eb.fn.count<number | string>('cards.task_key').distinct().as('n'))
        .where((eb) => eb.or([eb('cards.status', '=', 'active'), eb('cards.created_at', '>=', since)]))
        .executeTakeFirstOrThrow(),
    ]);
    return { cards: [...active, ...ended], tasks: Number(count.n) };
  }

  /** The active cards of one chat showing task `taskId` (of `kind`, when named): what `stop <id>` stops. */
  activeOfTask(app: string, chatId: string, taskId: string, kind?: string): Promise<CardWithTask[]> {
    return this.withTasks()
      .where('cards.app', '=', app)
      .where('cards.chat_id', '=', chatId)
      .where('cards.status', '=', 'active')
      .where('tasks.task_id', '=', taskId)
      .$if(kind !== undefined, (q) => q.where('tasks.kind', '=', kind!))
      .execute();
  }

  /** Cards with their task rows, newest first. */
  private withTasks() {
    return this.ctx.db
      .selectFrom('cards')
      .innerJoin('tasks', 'tasks.task_key', 'cards.task_key')
      .selectAll('cards')
      .select(['tasks.snapshot', 'tasks.last_changed_at', 'tasks.active'])
      .orderBy('cards.created_at', 'desc');
  }

  /** Every card still updated, for metrics and resumption checks. */
  async countActive(): Promise<number> {
    const r = await this.ctx.db
      .selectFrom('cards')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', 'active')
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }
}

function withWaiting<T extends CardRow & { waiting: number | string | null; pin_chat: number | null }>(row: T): WatchedCard {
  return { ...row, waiting: Number(row.waiting ?? 0), pin_chat: row.pin_chat === 1 };
}

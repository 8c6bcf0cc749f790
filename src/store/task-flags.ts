import type { ExpressionBuilder, Kysely } from 'kysely';
import type { StoreContext, TaskRow } from './store-context.js';
import type { Database } from './schema.js';

/**
 * A task's flags follow its cards: every card write that can change what a task needs runs in one
 * transaction with syncTask, holding the task's row, so a task is active exactly while it has an
 * active card, and pending while an ended card owes a send (or a finished task's mentions).
 */

/** The task's flags from its cards: active while one is active, pending while an ended one owes a send (or an unpin). */
export async function syncTask(ctx: StoreContext, tx: Kysely<Database>, taskKey: string): Promise<void> {
  await ctx.prepared.run(tx, 'syncTask', [taskKey], (taskKey) =>
    tx
      .updateTable('tasks')
      .set((eb) => ({
        active: eb
          .case()
          .when(eb.exists(eb.selectFrom('cards').select('card_key').where('cards.task_key', '=', taskKey).where('cards.status', '=', 'active')))
          .then(1)
          .else(0)
          .end(),
        pending: eb
          .case()
          .when(
            eb.exists(
              eb
                .selectFrom('cards')
                .select('card_key')
                .where('cards.task_key', '=', taskKey)
                .where('cards.status', '!=', 'active')
                .where((c) => endedOwes(c)),
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
export function cardWrite<T>(ctx: StoreContext, key: string, write: (tx: Kysely<Database>, taskKey: string) => Promise<T>): Promise<T | null> {
  return ctx.db.transaction().execute(async (tx) => {
    const card = (await ctx.prepared.run(tx, 'cardTask', [key], (key) => tx.selectFrom('cards').select('task_key').where('card_key', '=', key))).rows[0];
    if (!card) return null;
    await lockTask(ctx, tx, card.task_key);
    return write(tx, card.task_key);
  });
}

/** Serialises card writes of one task: on PostgreSQL by locking its row (SQLite runs one writer at a time). */
export async function lockTask(ctx: StoreContext, tx: Kysely<Database>, taskKey: string): Promise<Pick<TaskRow, 'active'> | undefined> {
  const r = await ctx.prepared.run(tx, 'lockTask', [taskKey], (taskKey) => {
    const q = tx.selectFrom('tasks').select('active').where('task_key', '=', taskKey);
    return ctx.dialect === 'postgres' ? q.forUpdate() : q;
  });
  return r.rows[0];
}

/**
 * An ended card that still owes something (used with `status != 'active'`, or beside it): the
 * rendering of its status, a finished task's mentions, or, pinned by taskbot, its unpinning.
 */
export function endedOwes(c: ExpressionBuilder<Database, 'cards'>) {
  return c.or([
    c.and([
      c('cards.status', '!=', 'gone'),
      c.or([c('cards.shown', 'is', null), c('cards.shown', '!=', c.ref('cards.status')), c.and([c('cards.status', '=', 'done'), c.exists(owed(c))])]),
    ]),
    // Never NULL (pinned may be): retention keeps what NOT(endedOwes) does not prove owes nothing.
    c.and([c('cards.pinned', 'is not', null), c('cards.pinned', '=', 1)]),
  ]);
}

/** Subscribers of the card in scope still waiting for their mention. */
export function owed(eb: ExpressionBuilder<Database, 'cards'>) {
  return eb
    .selectFrom('subscribers')
    .select('subscribers.card_key')
    .whereRef('subscribers.card_key', '=', 'cards.card_key')
    .where('subscribers.notified_at', 'is', null);
}

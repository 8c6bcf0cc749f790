import type { ExpressionBuilder } from 'kysely';
import type { StoreContext } from './store-context.js';
import type { Database } from './schema.js';
import { endedOwes } from './task-flags.js';

/** What goes after RETENTION_DAYS (hourly, app/bot.ts), and what never does: work still owed. */
export class RetentionStore {
  constructor(private readonly ctx: StoreContext) {}

  /**
   * Deletes ended cards created before `before` (with their subscribers) that owe nothing more (a
   * last rendering, a finished task's mentions, an unpin: owed work is never dropped), sets the
   * flags of tasks left without cards, then deletes tasks no card shows any more; and forgets form
   * deliveries as old (their submissions are then refused: "send help for a new one").
   */
  async prune(before: number): Promise<{ cards: number; tasks: number; forms: number }> {
    const { db } = this.ctx;
    const old = (eb: ExpressionBuilder<Database, 'cards'>) =>
      eb.and([eb('cards.status', '!=', 'active'), eb('cards.created_at', '<', before), eb.not(endedOwes(eb))]);
    const c = await db.transaction().execute(async (tx) => {
      await tx
        .deleteFrom('subscribers')
        .where('card_key', 'in', (eb) =>
          eb
            .selectFrom('cards')
            .select('card_key')
            .where((c) => old(c)),
        )
        .execute();
      return tx
        .deleteFrom('cards')
        .where((eb) => old(eb))
        .executeTakeFirst();
    });
    const cardless = (eb: ExpressionBuilder<Database, 'tasks'>) =>
      eb.not(eb.exists(eb.selectFrom('cards').select('card_key').whereRef('cards.task_key', '=', 'tasks.task_key')));
    // A task no card shows owes nothing and shows nothing (a stale flag would have it claimed every round).
    await db
      .updateTable('tasks')
      .set({ active: 0, pending: 0 })
      .where((eb) => eb.and([eb.or([eb('active', '!=', 0), eb('pending', '!=', 0)]), cardless(eb)]))
      .execute();
    const t = await db
      .deleteFrom('tasks')
      .where('active', '=', 0)
      .where('pending', '=', 0)
      .where((eb) => cardless(eb))
      .executeTakeFirst();
    const f = await db.deleteFrom('forms').where('created_at', '<', before).executeTakeFirst();
    return { cards: Number(c.numDeletedRows), tasks: Number(t.numDeletedRows), forms: Number(f.numDeletedRows) };
  }
}

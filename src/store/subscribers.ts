import type { StoreContext } from './store-context.js';
import { leaseHeldBy } from './leases.js';
import { cardWrite, syncTask } from './task-flags.js';

/** The people waiting for a card's task to end, each mentioned once when it does. */
export class SubscriberStore {
  constructor(private readonly ctx: StoreContext) {}

  /**
   * Adds `userId` to the people waiting on an active card, or takes them off when they were on it
   * already (the button toggles). Undefined when the card is not active (nothing to wait for).
   */
  async toggle(cardKey: string, userId: string, now: number, only?: 'on'): Promise<'on' | 'off' | undefined> {
    const r = await cardWrite(this.ctx, cardKey, async (tx) => {
      const card = await tx.selectFrom('cards').select('status').where('card_key', '=', cardKey).executeTakeFirst();
      if (card?.status !== 'active') return undefined;
      const had = await tx.selectFrom('subscribers').select('notified_at').where('card_key', '=', cardKey).where('user_id', '=', userId).executeTakeFirst();
      if (had && had.notified_at === null && only !== 'on') {
        await tx.deleteFrom('subscribers').where('card_key', '=', cardKey).where('user_id', '=', userId).execute();
        return 'off' as const;
      }
      await tx
        .insertInto('subscribers')
        .values({ card_key: cardKey, user_id: userId, created_at: now, notified_at: null, mention_at: null })
        .onConflict((oc) => oc.columns(['card_key', 'user_id']).doUpdateSet({ created_at: now, notified_at: null, mention_at: null }))
        .execute();
      return 'on' as const;
    });
    return r ?? undefined;
  }

  /** The people a card still owes a mention, in the order they asked; `begun`: a holder was about to mention them and never said how it went. */
  async owed(cardKey: string): Promise<{ userId: string; begun: boolean }[]> {
    const rows = await this.ctx.db
      .selectFrom('subscribers')
      .select(['user_id', 'mention_at'])
      .where('card_key', '=', cardKey)
      .where('notified_at', 'is', null)
      .orderBy('created_at')
      .orderBy('user_id')
      .execute();
    return rows.map((r) => ({ userId: r.user_id, begun: r.mention_at !== null }));
  }

  /**
   * Records that the holder of the task's lease (`owner`) is about to mention the people the card
   * owes, before it does: whoever comes after it knows the mention may have gone out. Only while
   * `owner` holds the lease; resolves with the people it may mention now.
   */
  async beginMention(cardKey: string, taskKey: string, owner: string, at: number): Promise<string[]> {
    const rows = await this.ctx.db
      .updateTable('subscribers')
      .set({ mention_at: at })
      .where('card_key', '=', cardKey)
      .where('notified_at', 'is', null)
      .where('mention_at', 'is', null)
      .where((eb) => eb.exists(eb.selectFrom('tasks').select('task_key').where('tasks.task_key', '=', taskKey).where(leaseHeldBy(owner))))
      .returning('user_id')
      .execute();
    return rows.map((r) => r.user_id);
  }

  /** The mention surely did not go out (the platform said no): it may be tried again. */
  async forgetMention(cardKey: string, userIds: string[]): Promise<void> {
    if (userIds.length === 0) return;
    await this.ctx.db
      .updateTable('subscribers')
      .set({ mention_at: null })
      .where('card_key', '=', cardKey)
      .where('user_id', 'in', userIds)
      .where('notified_at', 'is', null)
      .execute();
  }

  /** The mention of `userIds` went out (or was given up): they are owed nothing more. */
  async markNotified(cardKey: string, userIds: string[], at: number): Promise<void> {
    if (userIds.length === 0) return;
    await cardWrite(this.ctx, cardKey, async (tx, taskKey) => {
      await tx
        .updateTable('subscribers')
        .set({ notified_at: at })
        .where('card_key', '=', cardKey)
        .where('user_id', 'in', userIds)
        .where('notified_at', 'is', null)
        .execute();
      await syncTask(this.ctx, tx, taskKey);
    });
  }
}

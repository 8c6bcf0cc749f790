import type { StoreContext } from './context.js';

/** Inbound ids (events, messages, button presses) claimed once, remembered until they expire. */
export class DedupeStore {
  constructor(private readonly ctx: StoreContext) {}

  /** Claims `key` for `ttlMs`; false when someone already holds an unexpired claim. Atomic. */
  async claim(key: string, now: number, ttlMs: number): Promise<boolean> {
    const r = await this.ctx.db
      .insertInto('dedupe')
      .values({ key, expires_at: now + ttlMs })
      .onConflict((oc) => oc.column('key').doUpdateSet({ expires_at: now + ttlMs }).where('dedupe.expires_at', '<', now))
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }
}

import type { StoreContext } from './store-context.js';

/** The replicas sharing this database, each saying now and then that it is alive. */
export class ReplicaStore {
  constructor(private readonly ctx: StoreContext) {}

  /** `owner` is alive at `now`; resolves with how many replicas were seen within `ttlMs` (it included). */
  async heartbeat(owner: string, now: number, ttlMs: number): Promise<number> {
    const { db } = this.ctx;
    await db
      .insertInto('replicas')
      .values({ owner, seen_at: now })
      .onConflict((oc) => oc.column('owner').doUpdateSet({ seen_at: now }))
      .execute();
    // Replicas gone for a day are forgotten (a crash leaves its row behind).
    await db
      .deleteFrom('replicas')
      .where('seen_at', '<', now - 86_400_000)
      .execute();
    const r = await db
      .selectFrom('replicas')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('seen_at', '>=', now - ttlMs)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** `owner` is going away: the others take its share at their next heartbeat. */
  async leave(owner: string): Promise<void> {
    await this.ctx.db.deleteFrom('replicas').where('owner', '=', owner).execute();
  }
}

import type { DigestRow, StoreContext } from './store-context.js';
import { leaseFree, leaseHeldBy, renewLeases } from './leases.js';

/** Per-chat digest schedules, each firing claimed with a lease and recorded only once sent. */
export class DigestStore {
  constructor(private readonly ctx: StoreContext) {}

  async upsert(d: Omit<DigestRow, 'lease_owner' | 'lease_until' | 'failed_attempts' | 'planned_at'> & { planned_at?: number | null }): Promise<void> {
    const planned_at = d.planned_at ?? null;
    await this.ctx.db
      .insertInto('digests')
      .values({ ...d, planned_at, lease_owner: null, lease_until: null })
      .onConflict((oc) =>
        oc
          .column('chat_key')
          .doUpdateSet({ cron: d.cron, time_zone: d.time_zone, locale: d.locale, spec: d.spec, next_fire_at: d.next_fire_at, planned_at, failed_attempts: 0 }),
      )
      .execute();
  }

  async delete(chatKey: string): Promise<boolean> {
    const r = await this.ctx.db.deleteFrom('digests').where('chat_key', '=', chatKey).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  get(chatKey: string): Promise<DigestRow | undefined> {
    return this.ctx.db.selectFrom('digests').selectAll().where('chat_key', '=', chatKey).executeTakeFirst();
  }

  /**
   * Leases the digests due at `now`, and those planned at a time still ahead of `now`: the clock
   * went back past it since, so a firing may now lie before their next_fire_at (to be planned again).
   */
  async claimDue(owner: string, now: number, leaseUntil: number): Promise<DigestRow[]> {
    const { db, dialect } = this.ctx;
    let due = db
      .selectFrom('digests')
      .select('chat_key')
      .where((eb) => eb.or([eb('next_fire_at', '<=', now), eb('planned_at', '>', now)]))
      .where(leaseFree(now));
    if (dialect === 'postgres') due = due.forUpdate().skipLocked();
    return db
      .updateTable('digests')
      .set({ lease_owner: owner, lease_until: leaseUntil })
      .where('chat_key', 'in', due)
      .where(leaseFree(now))
      .returningAll()
      .execute();
  }

  /** Records a firing that was sent (or a skip), planned at `plannedAt`, and releases the lease; false when the lease was lost. */
  async complete(chatKey: string, owner: string, lastFiredAt: number | null, nextFireAt: number, plannedAt: number): Promise<boolean> {
    const r = await this.ctx.db
      .updateTable('digests')
      .set({
        ...(lastFiredAt !== null && { last_fired_at: lastFiredAt }),
        next_fire_at: nextFireAt,
        planned_at: plannedAt,
        failed_attempts: 0,
        lease_owner: null,
        lease_until: null,
      })
      .where('chat_key', '=', chatKey)
      .where(leaseHeldBy(owner))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** The clock went back: the next firing, planned again at `plannedAt`; a firing still being retried keeps its count. */
  async replan(chatKey: string, owner: string, nextFireAt: number, plannedAt: number): Promise<void> {
    await this.ctx.db
      .updateTable('digests')
      .set({ next_fire_at: nextFireAt, planned_at: plannedAt, lease_owner: null, lease_until: null })
      .where('chat_key', '=', chatKey)
      .where(leaseHeldBy(owner))
      .execute();
  }

  /** A send failed: the firing stays due, and is claimable again (by any replica) from `notBefore`. */
  async retry(chatKey: string, owner: string, failedAttempts: number, notBefore: number): Promise<void> {
    await this.ctx.db
      .updateTable('digests')
      .set({ failed_attempts: failedAttempts, lease_owner: null, lease_until: notBefore })
      .where('chat_key', '=', chatKey)
      .where(leaseHeldBy(owner))
      .execute();
  }

  /** Extends `owner`'s leases on `keys`; resolves with the keys still its own. */
  renew(keys: string[], owner: string, leaseUntil: number): Promise<string[]> {
    return renewLeases(this.ctx.db, 'digests', keys, owner, leaseUntil);
  }

  /** Lets go of `owner`'s leases (shutdown). */
  async release(owner: string): Promise<void> {
    await this.ctx.db.updateTable('digests').set({ lease_owner: null, lease_until: null }).where(leaseHeldBy(owner)).execute();
  }
}

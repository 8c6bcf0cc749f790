import type { StoreContext } from './store-context.js';
import { leaseFree, leaseHeldBy, renewLeases } from './leases.js';

/** A command owed an answer, as a holder takes it over. */
export interface OwedCommand {
  key: string;
  payload: string;
  attempts: number;
}

/** A delivery's command and who works it: the first of its ids carries them until it is answered. Without a command, the id is only held (see hold). */
export interface Work {
  payload?: string;
  owner: string;
  leaseUntil: number;
}

class Duplicate extends Error {}

/**
 * Inbound ids (events, messages, button presses) claimed once, remembered until they expire; a
 * command's first id also keeps the command, leased to the replica answering it, until it is
 * answered (DedupeTable). Work that runs once at a time holds a key of its own the same way.
 */
export class InboxStore {
  constructor(private readonly ctx: StoreContext) {}

  /** Claims every id of one delivery, atomically; false when any was claimed already (a duplicate). */
  async claim(keys: string[], now: number, ttlMs: number, work?: Work): Promise<boolean> {
    try {
      await this.ctx.db.transaction().execute(async (tx) => {
        for (const [i, key] of keys.entries()) {
          const w = i === 0 ? work : undefined;
          const row = {
            expires_at: now + ttlMs,
            payload: w?.payload ?? null,
            lease_owner: w?.owner ?? null,
            lease_until: w?.leaseUntil ?? null,
            attempts: w ? 1 : 0,
          };
          const r = await this.ctx.prepared.run(
            tx,
            'claimId',
            [key, row.expires_at, row.payload, row.lease_owner, row.lease_until, row.attempts, now],
            (key, expires_at, payload, lease_owner, lease_until, attempts, now) =>
              tx
                .insertInto('dedupe')
                .values({ key, expires_at, payload, lease_owner, lease_until, attempts })
                .onConflict((oc) =>
                  oc.column('key').doUpdateSet({ expires_at, payload, lease_owner, lease_until, attempts }).where('dedupe.expires_at', '<', now),
                ),
          );
          if (Number(r.numAffectedRows ?? 0) === 0) throw new Duplicate();
        }
      });
      return true;
    } catch (e) {
      if (e instanceof Duplicate) return false;
      throw e;
    }
  }

  /**
   * Holds `key` for `owner` for `leaseMs`, unless another holder's time is not up: work that runs
   * once at a time across replicas (a card's export). No command is owed, so nobody adopts it; the
   * key's expiry is the lease, renewed by renewHolds, so a dead holder's hold lapses.
   */
  hold(key: string, owner: string, now: number, leaseMs: number): Promise<boolean> {
    return this.claim([key], now, leaseMs, { owner, leaseUntil: now + leaseMs });
  }

  /** Whether `key` is claimed and not expired (a mark such as a file just posted). */
  async held(key: string, now: number): Promise<boolean> {
    const row = await this.ctx.db.selectFrom('dedupe').select('key').where('key', '=', key).where('expires_at', '>=', now).executeTakeFirst();
    return row !== undefined;
  }

  /** Extends `owner`'s holds to `until`; resolves with those still its own. */
  async renewHolds(keys: string[], owner: string, until: number): Promise<string[]> {
    if (keys.length === 0) return [];
    const rows = await this.ctx.db
      .updateTable('dedupe')
      .set({ expires_at: until, lease_until: until })
      .where('key', 'in', keys)
      .where('payload', 'is', null)
      .where(leaseHeldBy(owner))
      .returning('key')
      .execute();
    return rows.map((r) => r.key);
  }

  /** `owner` is done with `key`: the next hold takes it at once (a later holder's hold is left alone). */
  async letGo(key: string, owner: string): Promise<void> {
    await this.ctx.db.deleteFrom('dedupe').where('key', '=', key).where('payload', 'is', null).where(leaseHeldBy(owner)).execute();
  }

  /** The command was answered (or given up): only its id is remembered. */
  async answered(key: string): Promise<void> {
    const { db, prepared } = this.ctx;
    await prepared.run(db, 'answered', [key], (key) =>
      db.updateTable('dedupe').set({ payload: null, lease_owner: null, lease_until: null }).where('key', '=', key),
    );
  }

  /** Keeps `owner`'s lease on the commands it is still answering; resolves with those still its own. */
  renew(keys: string[], owner: string, leaseUntil: number): Promise<string[]> {
    return renewLeases(this.ctx.db, 'dedupe', keys, owner, leaseUntil);
  }

  /** Takes over up to `limit` commands still owed an answer whose holder's lease lapsed (it died, or stopped without answering). */
  async adopt(owner: string, now: number, leaseUntil: number, limit: number): Promise<OwedCommand[]> {
    const { db, dialect } = this.ctx;
    let owed = db.selectFrom('dedupe').select('key').where('payload', 'is not', null).where(leaseFree(now)).orderBy('lease_until').limit(limit);
    if (dialect === 'postgres') owed = owed.forUpdate().skipLocked();
    const rows = await db
      .updateTable('dedupe')
      .set((eb) => ({ lease_owner: owner, lease_until: leaseUntil, attempts: eb('attempts', '+', 1) }))
      .where('key', 'in', owed)
      .where('payload', 'is not', null)
      .where(leaseFree(now))
      .returning(['key', 'payload', 'attempts'])
      .execute();
    return rows.map((r) => ({ key: r.key, payload: r.payload!, attempts: Number(r.attempts) }));
  }

  /** Lets go of `owner`'s unanswered commands, for another replica to answer at once (shutdown). */
  async release(owner: string): Promise<void> {
    await this.ctx.db.updateTable('dedupe').set({ lease_owner: null, lease_until: null }).where('payload', 'is not', null).where(leaseHeldBy(owner)).execute();
  }
}

import { leaseFree, leaseHeldBy } from './leases.js';
import type { Store } from './store.js';

/** How long a script's Idempotency-Key is remembered. */
export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;

export type Claim =
  | { kind: 'new' }
  /** The first request with this key was answered: the same answer again. */
  | { kind: 'answered'; status: number; body: unknown }
  /** The first request with this key is still being worked. */
  | { kind: 'working' }
  /** The key was used for a different request. */
  | { kind: 'conflict' };

/**
 * Claims an Idempotency-Key for a request (its body's hash), atomically across replicas, leased
 * to `owner` until `leaseUntil`: a key whose first request was cut off (a crash, a stop) without
 * an answer is taken again by the same request once its lease lapsed.
 */
export async function claimRequest(store: Store, key: string, bodyHash: string, now: number, owner: string, leaseUntil: number): Promise<Claim> {
  const fresh = { body_hash: bodyHash, status: 0, response: null, expires_at: now + IDEMPOTENCY_TTL_MS, lease_owner: owner, lease_until: leaseUntil };
  const r = await store.db
    .insertInto('api_requests')
    .values({ key, ...fresh })
    .onConflict((oc) =>
      oc
        .column('key')
        .doUpdateSet(fresh)
        .where((eb) =>
          eb.or([
            eb('api_requests.expires_at', '<', now),
            eb.and([eb('api_requests.status', '=', 0), eb('api_requests.body_hash', '=', bodyHash), leaseFree(now, 'api_requests')]),
          ]),
        ),
    )
    .executeTakeFirst();
  if (Number(r.numInsertedOrUpdatedRows ?? 0) > 0) return { kind: 'new' };
  const row = await store.db.selectFrom('api_requests').selectAll().where('key', '=', key).executeTakeFirst();
  if (!row) return claimRequest(store, key, bodyHash, now, owner, leaseUntil); // released meanwhile
  if (row.body_hash !== bodyHash) return { kind: 'conflict' };
  if (row.status === 0) return { kind: 'working' };
  return { kind: 'answered', status: row.status, body: JSON.parse(row.response ?? 'null') };
}

/** Remembers the answer given for `key`. */
export async function answerRequest(store: Store, key: string, status: number, body: unknown): Promise<void> {
  await store.db
    .updateTable('api_requests')
    .set({ status, response: JSON.stringify(body), lease_owner: null, lease_until: null })
    .where('key', '=', key)
    .execute();
}

/** Forgets `key`, if `owner` still works it (its request failed in a way worth trying again). */
export async function releaseRequest(store: Store, key: string, owner: string): Promise<void> {
  await store.db.deleteFrom('api_requests').where('key', '=', key).where('status', '=', 0).where(leaseHeldBy(owner)).execute();
}

/** Keeps `owner`'s leases on the keys whose requests it is still working. */
export async function renewRequests(store: Store, keys: string[], owner: string, leaseUntil: number): Promise<void> {
  if (keys.length === 0) return;
  await store.db
    .updateTable('api_requests')
    .set({ lease_until: leaseUntil })
    .where('key', 'in', keys)
    .where('status', '=', 0)
    .where(leaseHeldBy(owner))
    .execute();
}

/** Lets go of the keys of requests cut off unanswered (shutdown): a retry takes them at once. */
export async function abandonRequests(store: Store, keys: string[], owner: string): Promise<void> {
  if (keys.length === 0) return;
  await store.db
    .updateTable('api_requests')
    .set({ lease_owner: null, lease_until: null })
    .where('key', 'in', keys)
    .where('status', '=', 0)
    .where(leaseHeldBy(owner))
    .execute();
}

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

/** Claims an Idempotency-Key for a request (its body's hash), atomically across replicas. */
export async function claimRequest(store: Store, key: string, bodyHash: string, now: number): Promise<Claim> {
  const r = await store.db
    .insertInto('api_requests')
    .values({ key, body_hash: bodyHash, status: 0, response: null, expires_at: now + IDEMPOTENCY_TTL_MS })
    .onConflict((oc) => oc.column('key').doUpdateSet({ body_hash: bodyHash, status: 0, response: null, expires_at: now + IDEMPOTENCY_TTL_MS }).where('api_requests.expires_at', '<', now))
    .executeTakeFirst();
  if (Number(r.numInsertedOrUpdatedRows ?? 0) > 0) return { kind: 'new' };
  const row = await store.db.selectFrom('api_requests').selectAll().where('key', '=', key).executeTakeFirst();
  if (!row) return claimRequest(store, key, bodyHash, now); // released meanwhile
  if (row.body_hash !== bodyHash) return { kind: 'conflict' };
  if (row.status === 0) return { kind: 'working' };
  return { kind: 'answered', status: row.status, body: JSON.parse(row.response ?? 'null') };
}

/** Remembers the answer given for `key`. */
export async function answerRequest(store: Store, key: string, status: number, body: unknown): Promise<void> {
  await store.db.updateTable('api_requests').set({ status, response: JSON.stringify(body) }).where('key', '=', key).execute();
}

/** Forgets `key` (the request failed in a way worth trying again). */
export async function releaseRequest(store: Store, key: string): Promise<void> {
  await store.db.deleteFrom('api_requests').where('key', '=', key).where('status', '=', 0).execute();
}

import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from './schema.js';

/**
 * The one rule of every lease the store hands out (tasks, digests, commands, script requests): a
 * row is free to claim when nobody holds it or its holder's time is up. Every table with a lease
 * names its columns `lease_owner` and `lease_until`; `table` qualifies them where a statement
 * sees two rows (an upsert's conflict clause).
 */
export function leaseFree(now: unknown, table?: string): RawBuilder<boolean> {
  const until = sql.ref(table ? `${table}.lease_until` : 'lease_until');
  return sql<boolean>`(${until} is null or ${until} < ${now})`;
}

/** The row's lease is `owner`'s (its time may be up: a holder finishing late may still write its outcome if nobody took over). */
export function leaseHeldBy(owner: unknown): RawBuilder<boolean> {
  return sql<boolean>`lease_owner = ${owner}`;
}

/** The tables whose rows are leased to the process working them, by the column naming a row. */
const LEASED = { tasks: 'task_key', digests: 'chat_key', dedupe: 'key' } as const;

/**
 * Extends `owner`'s leases on the rows `keys` of `table` to `leaseUntil`; resolves with the keys
 * still its own (the others were taken over meanwhile).
 */
export async function renewLeases(db: Kysely<Database>, table: keyof typeof LEASED, keys: string[], owner: string, leaseUntil: number): Promise<string[]> {
  if (keys.length === 0) return [];
  const key = sql.ref(LEASED[table]);
  const r = await sql<{
    k: string;
  }>`update ${sql.table(table)} set lease_until = ${leaseUntil} where ${key} in (${sql.join(keys)}) and ${leaseHeldBy(owner)} returning ${key} as k`.execute(
    db,
  );
  return r.rows.map((row) => row.k);
}

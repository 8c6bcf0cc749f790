import { sql, type RawBuilder } from 'kysely';

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

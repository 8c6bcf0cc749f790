import { sql, type RawBuilder } from 'kysely';

/**
 * The one rule of every lease the store hands out (tasks, digests): a row is free to claim when
 * nobody holds it or its holder's time is up. Every table with a lease names its columns
 * `lease_owner` and `lease_until`.
 */
export function leaseFree(now: unknown): RawBuilder<boolean> {
  return sql<boolean>`(lease_until is null or lease_until < ${now})`;
}

/** The row's lease is `owner`'s (its time may be up: a holder finishing late may still write its outcome if nobody took over). */
export function leaseHeldBy(owner: unknown): RawBuilder<boolean> {
  return sql<boolean>`lease_owner = ${owner}`;
}

import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import pg from 'pg';

/**
 * Deadlines of every PostgreSQL call. A database host that vanishes without resetting its
 * connections (a dead host, a network split) would otherwise leave each pool slot waiting forever.
 * The server cancels a slow statement itself (its connection stays usable); our own deadline is a
 * little longer and catches the silence of a server that cannot answer at all.
 */
export interface PgDeadlines {
  /** Opening a connection, and waiting for a free one in the pool. */
  connectMs: number;
  /** A query without any answer: the connection is thrown away. */
  queryMs: number;
  /** The server cancels a statement running longer (SQLSTATE 57014). */
  statementMs: number;
  /** The server gives up waiting for a row lock. */
  lockMs: number;
  /** The server ends a session idle in a transaction, freeing its locks (a replica that went silent mid-transaction). */
  idleInTransactionMs: number;
  /** TCP keep-alive probes on idle connections start after this. */
  keepAliveMs: number;
}

export const PG_DEADLINES: PgDeadlines = {
  connectMs: 5000,
  queryMs: 10_000,
  statementMs: 8000,
  lockMs: 5000,
  idleInTransactionMs: 10_000,
  keepAliveMs: 10_000,
};

/** bigint columns hold millisecond times: read them as numbers, not strings. */
const INT8_OID = 20;
const pgTypes = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** A pool of PostgreSQL connections with every deadline set; `onError` hears connections that broke. */
export function pgPool(url: string, d: PgDeadlines, onError?: (e: Error) => void): PostgresPool {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    types: pgTypes,
    connectionTimeoutMillis: d.connectMs,
    query_timeout: d.queryMs,
    statement_timeout: d.statementMs,
    lock_timeout: d.lockMs,
    idle_in_transaction_session_timeout: d.idleInTransactionMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: d.keepAliveMs,
  });
  // An idle connection cut by a database restart is reported here; unheard, it would crash the
  // process. The pool replaces it on the next query.
  pool.on('error', (e) => onError?.(e));
  // The pool listens only to idle clients: one cut while checked out (mid-transaction, during a
  // database restart) would emit an unheard 'error' and crash the process. Its query fails
  // and is retried by the caller; the event itself only needs a listener.
  pool.on('connect', (client) => client.on('error', (e) => onError?.(e)));
  return { connect: () => pool.connect().then(guarded), end: () => pool.end() };
}

/**
 * A checked-out connection that is thrown away, not given back to the pool, once a query on it
 * failed other than by the server's own answer (no answer in time, the connection cut): pg keeps
 * such a connection waiting for the answer that never came, and every later query would queue
 * behind it. Released with an error, the pool destroys it (and its socket).
 */
function guarded(client: pg.PoolClient): PostgresPoolClient {
  let broken: Error | undefined;
  return {
    query: ((sql: string, parameters: readonly unknown[]): Promise<PostgresQueryResult<unknown>> => {
      if (broken) return Promise.reject(broken);
      return client.query(sql, parameters as unknown[]).then(
        (r) => r as unknown as PostgresQueryResult<unknown>,
        (e: unknown) => {
          if (!(e instanceof pg.DatabaseError)) broken = e instanceof Error ? e : new Error(String(e));
          throw e;
        },
      );
    }) as PostgresPoolClient['query'],
    release: () => client.release(broken ?? false),
  };
}

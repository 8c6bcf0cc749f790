import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, sql } from 'kysely';
import { OwnSchemaPostgresDialect } from './pg-dialect.js';
import { migrationProvider } from './migrations.js';
import { TaskbotError } from '../domain/errors.js';
import { redactUrl } from '../domain/mask.js';
import type { Database } from './schema.js';
import { Store } from './store.js';
import { YieldingSqliteDialect } from './sqlite-yield.js';
import { QuietCheckpoint } from './quiet-checkpoint.js';
import { PG_DEADLINES, pgPool, type PgDeadlines } from './pg-pool.js';

export interface OpenOptions {
  /** Told when a database connection broke (it is replaced on the next query). */
  onPoolError?: (e: Error) => void;
  /** PostgreSQL's deadlines (tests shorten them). */
  deadlines?: Partial<PgDeadlines>;
  /** Told when SQLite's checkpoint in a quiet moment failed (its own, at 1,000 WAL pages, still runs). */
  onCheckpointFailed?: (e: Error) => void;
}

/**
 * Opens the store named by DATABASE_URL (`sqlite:PATH` or `postgres://…`) and brings its
 * schema up to date. SQLite gets its folder created and WAL mode.
 */
export async function openStore(url: string, o: OpenOptions = {}): Promise<Store> {
  let db: Kysely<Database>;
  let dialect: 'sqlite' | 'postgres';
  if (/^postgres(ql)?:\/\//.test(url)) {
    dialect = 'postgres';
    db = new Kysely<Database>({ dialect: new OwnSchemaPostgresDialect({ pool: pgPool(url, { ...PG_DEADLINES, ...o.deadlines }, o.onPoolError) }) });
  } else {
    dialect = 'sqlite';
    const path = url.replace(/^sqlite:/, '');
    if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
    const sqlite = unusable(path, () => {
      const d = new BetterSqlite3(path);
      d.pragma('journal_mode = WAL');
      // Reads every page: a file damaged past its first page fails here, not hours later.
      const check = d.pragma('quick_check', { simple: true });
      if (check === 'ok') return d;
      d.close();
      // One line of what it found, for the operator's one line.
      const first = String(check)
        .split('\n')
        .find((l) => !l.startsWith('***'));
      throw Object.assign(new Error(`database disk image is malformed (${first})`), { code: 'SQLITE_CORRUPT' });
    });
    // With WAL, NORMAL syncs at checkpoints rather than at every commit: no corruption risk,
    // and the event loop is not blocked by an fsync per card update.
    sqlite.pragma('synchronous = NORMAL');
    // Another process holding a lock (a backup, a second taskbot) is waited for briefly; the
    // wait blocks the event loop, so it is short: a busy round fails and the next one retries.
    sqlite.pragma('busy_timeout = 250');
    const checkpoint = path === ':memory:' ? undefined : new QuietCheckpoint(sqlite, o.onCheckpointFailed ?? (() => {}));
    db = new Kysely<Database>({ dialect: new YieldingSqliteDialect({ database: withStatementCache(sqlite) }, checkpoint) });
  }
  // The first query: a refusal no retry fixes is told in one line. Kysely's bookkeeping tables are
  // found in our schema alone (its introspector sees no other: pg-dialect.ts).
  if (dialect === 'postgres') await refused(url, db, () => sql`select 1`.execute(db));
  const { error } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
  if (error) {
    await db.destroy();
    throw error;
  }
  return new Store(db, dialect);
}

/** PostgreSQL's answers that no retry fixes: no such database or schema, wrong user or password, no right to it. */
const PG_REFUSED: Record<string, string> = {
  '3D000': 'create the database, or name an existing one',
  '3F000': 'create the schema, or fix search_path',
  '28P01': 'check the user and password',
  '28000': 'check the user, and pg_hba.conf for this host',
  '42501': 'grant the user the right to use the database',
};

/** Runs the first query; a refusal no retry fixes becomes STORE_UNUSABLE (one line, exit code 2), the password never shown. */
async function refused<T>(url: string, db: Kysely<Database>, first: () => Promise<T>): Promise<T> {
  try {
    return await first();
  } catch (e) {
    const code = String((e as { code?: unknown }).code);
    const fix = PG_REFUSED[code];
    if (!fix) throw e;
    await db.destroy();
    throw new TaskbotError('STORE_UNUSABLE', `DATABASE_URL ${redactUrl(url)}: ${(e as Error).message} (SQLSTATE ${code}); ${fix}`, {}, { cause: e });
  }
}

/** SQLite's answers that no retry fixes: the file is damaged, not a database, or cannot be opened. */
const UNUSABLE = /^SQLITE_(CORRUPT|NOTADB|CANTOPEN|IOERR|READONLY|PERM)/;

/** Runs `open`; a file SQLite cannot use becomes STORE_UNUSABLE, which stops start-up with one line and exit code 2. */
function unusable<T>(path: string, open: () => T): T {
  try {
    return open();
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string' || !UNUSABLE.test(code)) throw e;
    throw new TaskbotError(
      'STORE_UNUSABLE',
      `DATABASE_URL sqlite:${path}: ${(e as Error).message} (${code}); restore the file from a backup, or move it away to start empty`,
      {},
      { cause: e },
    );
  }
}

/**
 * Kysely prepares every query anew; the same few statements run thousands of times a minute
 * while watching, so prepared statements are kept by their SQL text.
 */
function withStatementCache(db: BetterSqlite3.Database): BetterSqlite3.Database {
  const cache = new Map<string, BetterSqlite3.Statement>();
  const prepare = (source: string) => {
    let stmt = cache.get(source);
    if (!stmt) {
      stmt = db.prepare(source);
      // Queries built with variable-length IN lists have many shapes: keep the cache bounded.
      if (cache.size >= 500) cache.delete(cache.keys().next().value!);
      cache.set(source, stmt);
    }
    return stmt;
  };
  return new Proxy(db, { get: (target, prop, receiver) => (prop === 'prepare' ? prepare : Reflect.get(target, prop, receiver)) });
}

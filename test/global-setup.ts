import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * PostgreSQL tests each get a fresh schema (test/helpers/stores.ts), named `t_<time>_<run>_<n>`.
 * This run's are dropped when it ends, and any left over from runs older than an hour (a killed
 * run) when the next starts: thousands left behind make the catalog, and every test, slow. A run
 * going on at the same time keeps its own.
 */
const RUN = randomBytes(3).toString('hex');

async function dropSchemas(which: (name: string) => boolean): Promise<void> {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) return;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ nspname: string }>("select nspname from pg_namespace where nspname like 't\\_%'");
    for (const r of rows.filter((x) => which(x.nspname))) await c.query(`DROP SCHEMA IF EXISTS "${r.nspname}" CASCADE`);
  } finally {
    await c.end();
  }
}

export async function setup(): Promise<void> {
  process.env.TEST_SCHEMA_RUN = RUN; // the test workers start after this and inherit it
  const hourAgo = Date.now() - 3600_000;
  await dropSchemas((name) => {
    const t = parseInt(name.split('_')[1] ?? '', 36);
    return !Number.isFinite(t) || t < hourAgo;
  });
}

export async function teardown(): Promise<void> {
  await dropSchemas((name) => name.split('_')[2] === RUN);
}

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';

/** Each store kind the contract runs on. PostgreSQL needs TEST_DATABASE_URL (.ci/run sets it). */
export const STORE_KINDS = ['sqlite', ...(process.env.TEST_DATABASE_URL ? ['postgres'] : [])] as const;

/** A fresh, empty store URL: a new SQLite file, or a new PostgreSQL schema. */
export async function freshStoreUrl(kind: string): Promise<string> {
  if (kind === 'sqlite') return `sqlite:${join(mkdtempSync(join(tmpdir(), 'taskbot-store-')), 'nested', 'taskbot.db')}`;
  const base = process.env.TEST_DATABASE_URL!;
  // t_<time>_<run>_<n>: test/global-setup.ts drops a run's own, and stale ones by their time.
  const schema = `t_${Date.now().toString(36)}_${process.env.TEST_SCHEMA_RUN ?? 'x'}_${Math.random().toString(36).slice(2, 8)}`;
  const c = new pg.Client({ connectionString: base });
  await c.connect();
  await c.query(`CREATE SCHEMA ${schema}`);
  await c.end();
  const u = new URL(base);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

export async function freshStore(kind: string): Promise<{ store: Store; url: string }> {
  const url = await freshStoreUrl(kind);
  return { store: await openStore(url), url };
}

/** Drops a PostgreSQL store's schema (a SQLite file is left to the temp folder). */
export async function dropFreshStore(url: string): Promise<void> {
  const schema = /search_path(?:=|%3D)(t_[a-z0-9_]+)/i.exec(decodeURIComponent(url))?.[1];
  if (!schema || !url.startsWith('postgres')) return;
  const c = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL! });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await c.end();
  }
}

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
  const schema = `t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
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

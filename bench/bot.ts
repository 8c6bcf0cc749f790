import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBot, type Bot, type BotOptions } from '../src/app/bot.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';

/** The real bot on a fresh SQLite store and a free port, logging only warnings. */
export function startBenchBot(env: Record<string, string>, o: Partial<BotOptions> = {}): Promise<Bot> {
  const dir = mkdtempSync(join(tmpdir(), 'taskbot-bench-'));
  const config = loadConfig({ DATABASE_URL: `sqlite:${join(dir, 'bot.db')}`, HTTP_PORT: '0', BOT_LOCALE: 'en', LOG_LEVEL: 'error', ...env });
  return startBot(config, { logger: createLogger('error'), ...o });
}

/** Resolves when `fn` returns a value, polling every millisecond. */
export async function waitFor<T>(fn: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('bench: timed out');
    await new Promise((r) => setImmediate(r));
  }
}

/** An APPS_FILE (JSON) holding `apps`, in a fresh temporary folder: its path. */
export function appsFile(apps: Record<string, unknown>[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'taskbot-bench-apps-')), 'apps.json');
  writeFileSync(file, JSON.stringify({ apps }));
  return file;
}

/** A `taskbot serve` process (this build), and its address once it runs. */
export interface Served {
  child: ChildProcess;
  url: Promise<string>;
}

export function serveProcess(env: Record<string, string>): Served {
  const cli = new URL('../src/cli.js', import.meta.url).pathname;
  const child = spawn(process.execPath, [cli, 'serve'], {
    cwd: mkdtempSync(join(tmpdir(), 'taskbot-bench-serve-')),
    // info: its address is in the 'taskbot is running' line.
    env: { PATH: process.env.PATH ?? '', HTTP_PORT: '0', LOG_LEVEL: 'info', BOT_LOCALE: 'en', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      const m = /"url":"([^"]+)"/.exec(l);
      if (m && l.includes('taskbot is running')) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`taskbot serve exited with ${code}`)));
    setTimeout(() => reject(new Error('taskbot serve did not start within 30 s')), 30_000).unref();
  });
  return { child, url };
}

/** A database of its own on the PostgreSQL of BENCH_DATABASE_URL (default: this machine's `test`): its URL, and how to drop it. */
export async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `bench_${Date.now().toString(36)}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: base });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE SCHEMA ${schema}`);
  const u = new URL(base);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return { url: u.toString(), drop: () => admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`) };
}

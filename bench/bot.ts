import { mkdtempSync, writeFileSync } from 'node:fs';
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

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { startBot, type Bot, type BotOptions } from '../../src/app/bot.js';
import { createLogger } from '../../src/log.js';

/** Collected log lines of a bot under test (JSON strings). */
export class LogSink {
  readonly lines: string[] = [];
  write(s: string) {
    this.lines.push(s);
  }
  get text() {
    return this.lines.join('');
  }
}

/**
 * Starts the real bot against fakes, on a fresh SQLite store and a free port, polling fast; by
 * default waits until every platform is connected (they connect in the background).
 */
export async function startTestBot(env: Record<string, string>, sink = new LogSink(), extra: Partial<BotOptions> & { connected?: boolean } = {}): Promise<{ bot: Bot; sink: LogSink }> {
  const dir = mkdtempSync(join(tmpdir(), 'taskbot-bot-'));
  const config = loadConfig({ DATABASE_URL: `sqlite:${join(dir, 'bot.db')}`, HTTP_PORT: '0', BOT_LOCALE: 'en', ...env });
  const bot = await startBot(config, {
    logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'debug', sink),
    watch: { minPollMs: 150, tickMs: 20 },
    stream: { backoffBaseMs: 50, backoffMaxMs: 400, idleMs: 3000 },
    reconnect: { baseDelayMs: 50, maxDelayMs: 400, readyTimeoutMs: 2000 },
    ...extra,
  });
  if (extra.connected !== false) {
    await until('platforms connected', () => Object.values(bot.platforms()).every((p) => p.ok), 10_000).catch(async (e) => {
      await bot.stop();
      throw e;
    });
  }
  return { bot, sink };
}

export async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 8000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

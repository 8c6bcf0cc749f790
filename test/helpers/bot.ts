import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { startBot, type Bot, type BotOptions } from '../../src/app/bot.js';
import { createLogger } from '../../src/log.js';
import { afterEach } from 'vitest';
import { FakeDingtalk } from '../../src/sandbox/fake-dingtalk.js';
import { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import { dingtalkEnv, feishuEnv } from './env.js';

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
export async function startTestBot(
  env: Record<string, string>,
  sink = new LogSink(),
  extra: Partial<BotOptions> & { connected?: boolean } = {},
): Promise<{ bot: Bot; sink: LogSink }> {
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
    await until('apps connected', () => Object.values(bot.apps()).every((p) => p.ok), 10_000).catch(async (e) => {
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

/** What one e2e test runs: the bot and the fake platforms it talks to (see platformsEach). */
export interface UnderTest {
  bot?: Bot;
  sink?: LogSink;
  feishu?: FakeFeishu;
  dingtalk?: FakeDingtalk;
}

/** A holder for each test's bot and fakes, all stopped after each test. */
export function platformsEach(): UnderTest {
  const t: UnderTest = {};
  afterEach(async () => {
    await t.bot?.stop();
    await t.feishu?.close();
    await t.dingtalk?.close();
    for (const k of Object.keys(t)) delete t[k as keyof UnderTest];
  });
  return t;
}

/** A fake Feishu, listening, and the bot on it over the long connection (`env` adds to its settings), connected. */
export async function feishuBot(
  env: Record<string, string> = {},
  extra: Partial<BotOptions> & { connected?: boolean } = {},
): Promise<{ fake: FakeFeishu; bot: Bot; sink: LogSink }> {
  const fake = new FakeFeishu();
  await fake.listen();
  const { bot, sink } = await startTestBot({ ...feishuEnv(fake), ...env }, undefined, extra).catch(async (e: unknown) => {
    await fake.close();
    throw e;
  });
  if (extra.connected !== false) await fake.gateway.waitForConnection();
  return { fake, bot, sink };
}

/** A fake DingTalk (with a card template), listening, and the bot on it over Stream mode, connected. */
export async function dingtalkBot(
  env: Record<string, string> = {},
  extra: Partial<BotOptions> & { connected?: boolean } = {},
): Promise<{ fake: FakeDingtalk; bot: Bot; sink: LogSink }> {
  const fake = new FakeDingtalk();
  await fake.listen();
  const { bot, sink } = await startTestBot({ ...dingtalkEnv(fake), DINGTALK_CARD_TEMPLATE_ID: 'tpl', ...env }, undefined, extra).catch(async (e: unknown) => {
    await fake.close();
    throw e;
  });
  if (extra.connected !== false) await fake.stream.waitForConnection();
  return { fake, bot, sink };
}

/** feishuBot held by `t` (stopped after the test). */
export async function withFeishu(t: UnderTest, env: Record<string, string> = {}, extra: Partial<BotOptions> = {}): Promise<FakeFeishu> {
  const r = await feishuBot(env, extra);
  Object.assign(t, { feishu: r.fake, bot: r.bot, sink: r.sink });
  return r.fake;
}

/** dingtalkBot held by `t` (stopped after the test). */
export async function withDingtalk(t: UnderTest, env: Record<string, string> = {}, extra: Partial<BotOptions> = {}): Promise<FakeDingtalk> {
  const r = await dingtalkBot(env, extra);
  Object.assign(t, { dingtalk: r.fake, bot: r.bot, sink: r.sink });
  return r.fake;
}

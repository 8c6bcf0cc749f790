import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { startBot, type Bot, type BotOptions } from '../../src/app/bot.js';
import { createLogger } from '../../src/log.js';
import { afterEach, expect, onTestFinished } from 'vitest';
import { appsFileEnv } from './apps.js';
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
  /** Every bot of the file serves a neighbour app of its platform beside the one under test (see neighbourOf). */
  readonly neighbours?: boolean;
}

/** A holder for each test's bot and fakes, all stopped after each test. */
export function platformsEach(o: { neighbours?: boolean } = {}): UnderTest {
  const t: UnderTest = { ...(o.neighbours && { neighbours: true }) };
  afterEach(async () => {
    await t.bot?.stop();
    await t.feishu?.close();
    await t.dingtalk?.close();
    for (const k of ['bot', 'sink', 'feishu', 'dingtalk'] as const) delete t[k];
  });
  return t;
}

/** What a neighbour app's fake may see: its own start-up (token, connection, the bot's identity), nothing of the test's traffic. */
const NEIGHBOUR_STARTUP = /\/(auth\/v3\/|callback\/ws\/|bot\/v3\/info|v1\.0\/oauth2\/|v1\.0\/gateway\/|gettoken)/;

/**
 * With `neighbour`, the bot also serves a second app of the platform (from an APPS_FILE, DESIGN §8)
 * against a fake of its own that hands out the same chat, message and task ids: the test's flows
 * run in a deployment of two apps, and after the test the neighbour must have been sent nothing.
 */
async function neighbourOf<F extends FakeFeishu | FakeDingtalk>(make: () => F, id: string): Promise<{ fake: F; env: Record<string, string> }> {
  const fake = make();
  await fake.listen();
  onTestFinished(async () => {
    await fake.close();
    expect(
      fake.calls(/./).filter((r) => !NEIGHBOUR_STARTUP.test(r.path)),
      `the neighbour app ${id} was sent the test's traffic`,
    ).toEqual([]);
  });
  return { fake, env: appsFileEnv([{ id, fake }]) };
}

type TestBotExtra = Partial<BotOptions> & { connected?: boolean; neighbour?: boolean };

/** A fake Feishu, listening, and the bot on it over the long connection (`env` adds to its settings), connected. */
export async function feishuBot(env: Record<string, string> = {}, extra: TestBotExtra = {}): Promise<{ fake: FakeFeishu; bot: Bot; sink: LogSink }> {
  const fake = new FakeFeishu();
  await fake.listen();
  const n = extra.neighbour ? await neighbourOf(() => new FakeFeishu('cli_b1b2c3d4e5f60719', 'lark-secret'), 'lark') : undefined;
  const { bot, sink } = await startTestBot({ ...feishuEnv(fake), ...n?.env, ...env }, undefined, extra).catch(async (e: unknown) => {
    await fake.close();
    throw e;
  });
  if (extra.connected !== false) await fake.gateway.waitForConnection();
  return { fake, bot, sink };
}

/** A fake DingTalk (with a card template), listening, and the bot on it over Stream mode, connected. */
export async function dingtalkBot(env: Record<string, string> = {}, extra: TestBotExtra = {}): Promise<{ fake: FakeDingtalk; bot: Bot; sink: LogSink }> {
  const fake = new FakeDingtalk();
  await fake.listen();
  const n = extra.neighbour ? await neighbourOf(() => new FakeDingtalk('dingfakeclientbj', 'bj-secret'), 'dingtalk-bj') : undefined;
  const { bot, sink } = await startTestBot({ ...dingtalkEnv(fake), DINGTALK_CARD_TEMPLATE_ID: 'tpl', ...n?.env, ...env }, undefined, extra).catch(
    async (e: unknown) => {
      await fake.close();
      throw e;
    },
  );
  if (extra.connected !== false) await fake.stream.waitForConnection();
  return { fake, bot, sink };
}

/** feishuBot held by `t` (stopped after the test). */
export async function withFeishu(t: UnderTest, env: Record<string, string> = {}, extra: TestBotExtra = {}): Promise<FakeFeishu> {
  const r = await feishuBot(env, { ...(t.neighbours && { neighbour: true }), ...extra });
  Object.assign(t, { feishu: r.fake, bot: r.bot, sink: r.sink });
  return r.fake;
}

/** dingtalkBot held by `t` (stopped after the test). */
export async function withDingtalk(t: UnderTest, env: Record<string, string> = {}, extra: TestBotExtra = {}): Promise<FakeDingtalk> {
  const r = await dingtalkBot(env, { ...(t.neighbours && { neighbour: true }), ...extra });
  Object.assign(t, { dingtalk: r.fake, bot: r.bot, sink: r.sink });
  return r.fake;
}

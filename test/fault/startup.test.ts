import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { AddressInfo } from 'node:net';
import { TOPIC_ROBOT } from 'dingtalk-stream';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeDingtalk } from '../../src/sandbox/fake-dingtalk.js';
import { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import type { Bot } from '../../src/app/bot.js';
import { startTestBot, until } from '../helpers/bot.js';
import { exited, serve, type Served } from '../helpers/serve.js';
import { bothEnv } from '../helpers/env.js';

const FOREVER = 1e9;

const readyz = async (bot: Bot) => {
  const r = await fetch(`${bot.url}/readyz`);
  return { status: r.status, body: (await r.json()) as { ok: boolean; checks: Record<string, { ok: boolean; state?: string; error?: string }> } };
};

describe('one platform down: the other works, and the bot says which is down', () => {
  let feishu: FakeFeishu;
  let dingtalk: FakeDingtalk;
  let bot: Bot | undefined;

  async function start() {
    feishu = new FakeFeishu();
    dingtalk = new FakeDingtalk();
    await Promise.all([feishu.listen(), dingtalk.listen()]);
    dingtalk.users.set('staff001', 'union-001');
  }
  afterEach(async () => {
    await bot?.stop();
    bot = undefined;
    await Promise.all([feishu.close(), dingtalk.close()]);
  });

  it('DingTalk gateway refusing every connection: Feishu cards are answered and updated to the end', async () => {
    await start();
    dingtalk.stream.refuseNext = FOREVER;
    ({ bot } = await startTestBot(bothEnv(feishu, dingtalk), undefined, { connected: false }));
    await feishu.gateway.waitForConnection();

    feishu.addTask({ id: '7001', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 4 });
    const { messageId, event } = feishu.say('oc_up', 'status 7001');
    await feishu.gateway.push(event);
    const reply = await until('the reply', () => feishu.im.inChat('oc_up').find((m) => m.reply_to === messageId));
    await until('the final card', () => JSON.stringify(reply.card).includes('Succeeded'), 10_000);

    // One app down serves on (DESIGN §8): ready, and the body says which app is not.
    const r = await readyz(bot);
    expect(r.status).toBe(200);
    expect(r.body.ok).toBe(false);
    expect(r.body.checks.feishu).toEqual({ ok: true, state: 'connected' });
    expect(r.body.checks.dingtalk).toMatchObject({ ok: false, state: 'connecting' });
    expect(r.body.checks.dingtalk!.error).toMatch(/HTTP 503/);
    expect(r.body.checks.apps).toMatchObject({ dingtalk: { ok: false, platform: 'dingtalk', state: 'connecting', reason: expect.stringMatching(/HTTP 503/) } });
    expect(dingtalk.stream.openCalls).toBeGreaterThan(1); // still trying

    // The gateway comes back: DingTalk connects without a restart.
    dingtalk.stream.refuseNext = 0;
    await until('DingTalk connected', async () => (await readyz(bot!)).body.ok === true, 10_000);
  }, 30_000);

  it('Feishu endpoint failing: DingTalk cards are answered and updated to the end', async () => {
    await start();
    feishu.gateway.refuseNext = FOREVER;
    ({ bot } = await startTestBot(bothEnv(feishu, dingtalk), undefined, { connected: false }));
    await dingtalk.stream.waitForConnection();

    dingtalk.addTask({ id: 'copy-9', kind: 'doc', total: 10, outcome: 'succeeded', queuedSteps: 0, runningSteps: 3 });
    await dingtalk.stream.push(TOPIC_ROBOT, dingtalk.robotMessage('cidUp==', 'status copy-9').data);
    const card = await until('the card', () => [...dingtalk.im.cards.values()][0]);
    await until('the final update', () => card.params.stateCode === 'succeeded', 10_000);

    const r = await readyz(bot);
    expect(r.status).toBe(200);
    expect(r.body.ok).toBe(false);
    expect(r.body.checks.dingtalk).toEqual({ ok: true, state: 'connected' });
    expect(r.body.checks.feishu).toMatchObject({ ok: false });
    expect(r.body.checks.feishu!.error).toMatch(/system busy/);
    expect(feishu.gateway.endpointCalls).toBeGreaterThan(1);
    feishu.gateway.refuseNext = 0;
    await until('Feishu connected', async () => (await readyz(bot!)).body.ok === true, 10_000);
  }, 30_000);
});

describe('start-up and shutdown of the process', () => {
  let feishu: FakeFeishu;
  let dingtalk: FakeDingtalk;
  let child: Served | undefined;
  let blocker: Server | undefined;

  afterEach(async () => {
    if (child && child.child.exitCode === null) child.child.kill('SIGKILL');
    child = undefined;
    await new Promise((r) => (blocker ? blocker.close(r) : r(undefined)));
    blocker = undefined;
    await Promise.all([feishu.close(), dingtalk.close()]);
  });

  async function fakes() {
    feishu = new FakeFeishu();
    dingtalk = new FakeDingtalk();
    await Promise.all([feishu.listen(), dingtalk.listen()]);
  }

  it('port in use: one clear line, exit 2, and no platform connection left open', async () => {
    await fakes();
    blocker = createServer();
    await new Promise<void>((r) => blocker!.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as AddressInfo).port;
    child = serve({ ...bothEnv(feishu, dingtalk), HTTP_PORT: String(port), DATABASE_URL: 'sqlite::memory:' });
    const code = await exited(child.child);
    expect(code).toBe(2);
    expect(child.log()).toMatch(/taskbot could not start: CONFIG_INVALID: cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE.*HTTP_PORT/);
    expect(feishu.gateway.connected).toBe(0);
    expect(dingtalk.stream.connected).toBe(0);
    expect(feishu.gateway.endpointCalls + dingtalk.stream.openCalls).toBe(0);
  }, 30_000);

  it.each([
    ['not a database', (file: string) => writeFileSync(file, 'this is not a database, it is a note someone saved here'.repeat(100))],
    [
      'damaged past its first page',
      (file: string) => {
        const d = new BetterSqlite3(file);
        d.exec(
          'CREATE TABLE t (x TEXT); INSERT INTO t SELECT hex(randomblob(400)) FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400) SELECT i FROM n)',
        );
        d.close();
        const b = readFileSync(file);
        b.fill(0x7f, 4096 * 2 + 100, 4096 * 6);
        writeFileSync(file, b);
      },
    ],
    ['a folder where the file should be', (file: string) => mkdirSync(file)],
  ])(
    'a SQLite file that cannot be used (%s): one clear line and exit 2, so the supervisor does not restart it in a loop',
    async (_what, spoil) => {
      await fakes();
      const file = join(mkdtempSync(join(tmpdir(), 'taskbot-corrupt-')), 'bot.db');
      spoil(file);
      child = serve({ ...bothEnv(feishu, dingtalk), DATABASE_URL: `sqlite:${file}` });
      expect(await exited(child.child)).toBe(2);
      expect(child.log()).toMatch(/taskbot could not start: STORE_UNUSABLE: DATABASE_URL sqlite:.*bot\.db: .*restore the file from a backup/);
      expect(feishu.gateway.endpointCalls + dingtalk.stream.openCalls).toBe(0);
    },
    30_000,
  );

  it.runIf(process.env.TEST_DATABASE_URL)(
    'a PostgreSQL database that does not exist: one clear line naming the fix (never the password), exit 2',
    async () => {
      await fakes();
      const u = new URL(process.env.TEST_DATABASE_URL!);
      u.pathname = `/taskbot_missing_${process.pid}`;
      u.username = 'postgres';
      u.password = 'pw-never-shown';
      child = serve({ ...bothEnv(feishu, dingtalk), DATABASE_URL: u.toString() });
      expect(await exited(child.child)).toBe(2);
      expect(child.log()).toMatch(
        /taskbot could not start: STORE_UNUSABLE: DATABASE_URL postgres:\/\/postgres:\*\*\*@.*: database "taskbot_missing_\d+" does not exist \(SQLSTATE 3D000\); create the database/,
      );
      expect(child.log()).not.toContain('pw-never-shown');
    },
    30_000,
  );

  it("one app's credentials refused: that app is reported failed, once, and the other serves on", async () => {
    await fakes();
    child = serve({ ...bothEnv(feishu, dingtalk), DINGTALK_CLIENT_SECRET: 'wrong-secret', DATABASE_URL: 'sqlite::memory:' });
    await child.ready;
    await feishu.gateway.waitForConnection();
    const ready = await until('DingTalk reported failed', async () => {
      const r = await fetch(new URL('/readyz', child!.url()));
      const body = (await r.json()) as { checks: { apps: Record<string, { state: string; reason?: string }> } };
      return body.checks.apps.dingtalk?.state === 'failed' ? { status: r.status, body } : undefined;
    });
    expect(ready.status).toBe(200);
    expect(ready.body.checks.apps.feishu).toMatchObject({ ok: true, state: 'connected' });
    expect(ready.body.checks.apps.dingtalk!.reason).toMatch(/^AUTH_FAILED: .*DINGTALK_CLIENT_ID \/ DINGTALK_CLIENT_SECRET refused/);
    expect(child.log().match(/DingTalk app refused/g)).toHaveLength(1);
    expect(child.child.exitCode).toBeNull();
  }, 30_000);

  it("every app refused: one clear line naming each app's credentials, exit 2, nothing left open", async () => {
    await fakes();
    child = serve({ ...bothEnv(feishu, dingtalk), FEISHU_APP_SECRET: 'wrong-secret', DINGTALK_CLIENT_SECRET: 'wrong-secret', DATABASE_URL: 'sqlite::memory:' });
    const code = await exited(child.child);
    expect(code).toBe(2);
    const line = child
      .log()
      .split('\n')
      .find((l) => l.startsWith('taskbot stopped'));
    expect(line).toMatch(/taskbot stopped: AUTH_FAILED: /);
    expect(line).toContain('FEISHU_APP_ID / FEISHU_APP_SECRET');
    expect(line).toContain('DINGTALK_CLIENT_ID / DINGTALK_CLIENT_SECRET refused');
    expect(line).not.toContain('wrong-secret');
    expect(feishu.gateway.connected).toBe(0);
  }, 30_000);

  it('SIGTERM while a platform is still connecting: stops at once and exits 0', async () => {
    await fakes();
    dingtalk.stream.refuseNext = FOREVER;
    child = serve({ ...bothEnv(feishu, dingtalk), DATABASE_URL: 'sqlite::memory:' });
    await child.ready;
    await feishu.gateway.waitForConnection();
    const openCalls = dingtalk.stream.openCalls;
    child.child.kill('SIGTERM');
    const started = Date.now();
    expect(await exited(child.child)).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(child.log()).toContain('taskbot stopped');
    await until('Feishu connection closed', () => feishu.gateway.connected === 0);
    await new Promise((r) => setTimeout(r, 1500));
    expect(dingtalk.stream.openCalls).toBeLessThanOrEqual(openCalls + 1);
  }, 30_000);
});

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Bot } from '../../src/app/bot.js';
import { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import { startTestBot, until, type LogSink } from '../helpers/bot.js';
import { feishuEnv } from '../helpers/env.js';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { smallDisk } from '../helpers/small-disk.js';
import { dropFreshStore, freshStoreUrl } from '../helpers/stores.js';
import { exited, serve } from '../helpers/serve.js';

const hex = (n: number) => `db${n.toString(16).padStart(30, '0')}`;

/** The store's URL through `proxy` (PostgreSQL at TEST_DATABASE_URL behind it). */
function through(proxy: FaultProxy, url: string): string {
  const u = new URL(url);
  u.host = `127.0.0.1:${proxy.port}`;
  return u.toString();
}

async function pgProxy(): Promise<FaultProxy> {
  const target = new URL(process.env.TEST_DATABASE_URL!);
  const proxy = new FaultProxy({ host: target.hostname, port: Number(target.port || 5432) });
  await proxy.listen();
  return proxy;
}

async function readyz(bot: Bot): Promise<{ status: number; ms: number; body: { checks: { store: { ok: boolean; error?: string } } } }> {
  const t = performance.now();
  const res = await fetch(`${bot.url}/readyz`);
  return { status: res.status, ms: performance.now() - t, body: (await res.json()) as never };
}

const storeUp = async (bot: Bot) => /^taskbot_store_up (\d)/m.exec(await bot.metrics.text())?.[1];

describe('the store fails under a running taskbot', () => {
  let fake: FakeFeishu | undefined;
  let bot: Bot | undefined;
  let proxy: FaultProxy | undefined;
  let url: string | undefined;
  afterEach(async () => {
    await bot?.stop().catch(() => undefined);
    await fake?.close();
    await proxy?.close();
    if (url) await dropFreshStore(url);
    bot = fake = proxy = url = undefined;
  });

  it.runIf(process.env.TEST_DATABASE_URL)(
    'PostgreSQL goes silent (connections swallowed, never reset): /readyz says so within 2 s, the log once each way, and work resumes by itself when it is back',
    async () => {
      url = await freshStoreUrl('postgres');
      proxy = await pgProxy();
      fake = new FakeFeishu();
      await fake.listen();
      let sink: LogSink;
      ({ bot, sink } = await startTestBot({ ...feishuEnv(fake), DATABASE_URL: through(proxy, url) }));
      fake.addTask({ id: hex(1), kind: 'contact', total: 600, outcome: 'succeeded', queuedSteps: 0, runningSteps: 120, advance: 300 });
      const { messageId, event } = fake.say('oc_silent', `status ${hex(1)}`);
      await fake.gateway.push(event);
      const card = await until('the card', () => fake!.im.inChat('oc_silent').find((m) => m.reply_to === messageId));
      await until('updates', () => card.history.length >= 3, 10_000);
      expect((await readyz(bot)).status).toBe(200);

      proxy.set('blackhole');
      const wentAt = Date.now();
      // /readyz always answers within 2 s, and says 503 naming the store within 10 s.
      const slowest = { ms: 0 };
      const r = await until(
        '/readyz 503',
        async () => {
          const x = await readyz(bot!);
          slowest.ms = Math.max(slowest.ms, x.ms);
          return x.status === 503 && x;
        },
        12_000,
      );
      expect(Date.now() - wentAt).toBeLessThan(10_000);
      expect(slowest.ms).toBeLessThan(2000);
      expect(r.body.checks.store.ok).toBe(false);
      expect(r.body.checks.store.error).toMatch(/no answer within/);
      const warned = (s: string) => sink.lines.filter((l) => l.includes(s)).length;
      await until('the warn line', () => warned('the store does not take writes') === 1, 10_000);
      expect(await storeUp(bot)).toBe('0');
      // A command meanwhile is answered with an apology (it could not be kept), within the platform's deadline.
      const asked = fake.say('oc_silent', 'help');
      const ack = await fake.gateway.push(asked.event);
      expect(ack.ms).toBeLessThan(3000);
      const sorry = await until('the apology', () => fake!.im.inChat('oc_silent').find((m) => m.reply_to === asked.messageId), 10_000);
      expect(JSON.stringify(sorry.card)).toContain('Something went wrong on our side');
      // Long enough for every connection in use to have waited out its deadline.
      await new Promise((r) => setTimeout(r, 12_000));
      expect(warned('the store does not take writes')).toBe(1);
      const during = card.history.length;

      proxy.set('pass');
      const backAt = Date.now();
      await until('updates resume', () => card.history.length > during + 1, 30_000);
      expect(Date.now() - backAt).toBeLessThan(30_000);
      await until('/readyz 200', async () => (await readyz(bot!)).status === 200, 10_000);
      expect(await storeUp(bot)).toBe('1');
      expect(warned('the store takes writes again')).toBe(1);
    },
    90_000,
  );

  it.runIf(process.env.TEST_DATABASE_URL)(
    'SIGTERM while PostgreSQL is silent: the process still exits, within the drain deadline',
    async () => {
      url = await freshStoreUrl('postgres');
      proxy = await pgProxy();
      fake = new FakeFeishu();
      await fake.listen();
      const p = serve({ ...feishuEnv(fake), DATABASE_URL: through(proxy, url) });
      try {
        await p.ready;
        await fake.gateway.waitForConnection();
        fake.addTask({ id: hex(2), kind: 'contact', total: 600, outcome: 'succeeded', queuedSteps: 0, runningSteps: 120, advance: 300 });
        const { messageId, event } = fake.say('oc_term', `status ${hex(2)}`);
        await fake.gateway.push(event);
        const card = await until('the card', () => fake!.im.inChat('oc_term').find((m) => m.reply_to === messageId));
        await until('updates', () => card.history.length >= 2, 10_000);
        proxy.set('blackhole');
        await new Promise((r) => setTimeout(r, 1000));
        const t = Date.now();
        p.child.kill('SIGTERM');
        const code = await exited(p.child);
        // The drain deadline (8 s) and a second for whatever it left behind.
        expect(Date.now() - t).toBeLessThan(10_000);
        expect(code).toBe(0);
        expect(p.log()).toContain('left behind');
      } finally {
        if (p.child.exitCode === null) p.child.kill('SIGKILL');
      }
    },
    60_000,
  );

  it('SQLite locked by another process: /readyz says the store takes no writes (a read would still pass)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'taskbot-ready-')), 'bot.db');
    ({ bot } = await startTestBot({ DATABASE_URL: `sqlite:${file}` }, undefined, { heartbeatMs: 200 }));
    expect((await readyz(bot)).status).toBe(200);
    const locker = spawn(process.execPath, [
      '-e',
      `const D=require('better-sqlite3');const d=new D(${JSON.stringify(file)});d.exec('BEGIN EXCLUSIVE');console.log('locked');setTimeout(()=>{d.exec('COMMIT');d.close()},4000)`,
    ]);
    await new Promise((r) => locker.stdout.once('data', r));
    await new Promise((r) => setTimeout(r, 1200));
    const r = await readyz(bot);
    expect(r.status).toBe(503);
    expect(r.body.checks.store.error).toMatch(/locked|busy/i);
    await new Promise((r) => locker.once('exit', r));
    await until('/readyz 200 again', async () => (await readyz(bot!)).status === 200, 5000);
  }, 30_000);

  it('the disk is full: a command is answered with an apology, /readyz says the store takes no writes, and all is well once there is room again', async (ctx) => {
    const disk = smallDisk();
    if (!disk) return ctx.skip();
    try {
      fake = new FakeFeishu();
      await fake.listen();
      mkdirSync(join(disk.dir, 'data'));
      let sink: LogSink;
      ({ bot, sink } = await startTestBot({ ...feishuEnv(fake), DATABASE_URL: `sqlite:${join(disk.dir, 'data', 'bot.db')}` }, undefined, { heartbeatMs: 200 }));
      disk.fill();
      const { messageId, event } = fake.say('oc_full', 'help');
      await fake.gateway.push(event);
      const reply = await until('the apology', () => fake!.im.inChat('oc_full').find((m) => m.reply_to === messageId));
      expect(JSON.stringify(reply.card)).toContain('Something went wrong on our side');
      expect(sink.text).toMatch(/the store could not keep a command[^\n]*|SQLITE_FULL|database or disk is full/);
      await until('/readyz 503', async () => (await readyz(bot!)).status === 503, 5000);

      disk.free();
      await until('/readyz 200', async () => (await readyz(bot!)).status === 200, 5000);
      const again = fake.say('oc_full', 'help');
      await fake.gateway.push(again.event);
      const help = await until('the help card', () => fake!.im.inChat('oc_full').find((m) => m.reply_to === again.messageId));
      expect(JSON.stringify(help.card)).toContain('taskbot help');
    } finally {
      await bot?.stop().catch(() => undefined);
      bot = undefined;
      disk.unmount();
    }
  }, 30_000);
});

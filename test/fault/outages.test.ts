import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import type { Bot } from '../../src/app/bot.js';
import { feishuBot, until, type LogSink } from '../helpers/bot.js';

const hex = (n: number) => `0a${n.toString(16).padStart(30, '0')}`;

describe('outages during watches', () => {
  let fake: FakeFeishu;
  let bot: Bot | undefined;
  let sink: LogSink;
  afterEach(async () => {
    await bot?.stop().catch(() => undefined);
    bot = undefined;
    await fake?.close();
  });

  async function start(env: Record<string, string> = {}) {
    ({ fake, bot, sink } = await feishuBot({ UPSTREAM_TIMEOUT_MS: '300', ...env }));
  }

  async function card(chat: string, id: string) {
    const { messageId, event } = fake.say(chat, `status ${id}`);
    await fake.gateway.push(event);
    return until('reply', () => fake.im.inChat(chat).find((m) => m.reply_to === messageId));
  }

  it('upstream 500s, timeouts, malformed answers, 429 bursts and a revoked token: the card still reaches its end', async () => {
    await start();
    fake.addTask({ id: hex(1), kind: 'contact', total: 50, outcome: 'partial', queuedSteps: 0, runningSteps: 6 });
    const m = await card('oc_faults', hex(1));
    const path = /contact\/v2\/task\/get/;
    fake.inject({ path, kind: '5xx', times: 3 });
    fake.inject({ path, kind: 'malformed', times: 2 });
    fake.inject({ path, kind: '429', times: 2, resetSec: 1 });
    fake.inject({ path, kind: 'hang', times: 2 });
    fake.tokens.revokeAll();
    await until('the final card', () => (m.card.header as { template: string }).template === 'orange', 45_000);
    expect(JSON.stringify(m.card)).toContain('Partly failed');
    expect(sink.text).toContain('UPSTREAM_UNAVAILABLE');
    expect(sink.text).toContain('BAD_UPSTREAM_RESPONSE');
  }, 60_000);

  it('SQLite locked by another process for 10 s: no watch is lost, updates resume', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskbot-lock-'));
    const file = join(dir, 'bot.db');
    await start({ DATABASE_URL: `sqlite:${file}` });
    fake.addTask({ id: hex(3), kind: 'contact', total: 500, outcome: 'succeeded', queuedSteps: 0, runningSteps: 60, advance: 500 });
    const m = await card('oc_lock', hex(3));
    await until('patched', () => m.history.length >= 2, 10_000);
    const locker = spawn(process.execPath, [
      '-e',
      `const D=require('better-sqlite3');const d=new D(${JSON.stringify(file)});d.exec('BEGIN EXCLUSIVE');console.log('locked');setTimeout(()=>{d.exec('COMMIT');d.close()},10000)`,
    ]);
    await new Promise((r) => locker.stdout.once('data', r));
    await new Promise((r) => locker.once('exit', r));
    const afterLock = m.history.length;
    await until('updates resume', () => m.history.length > afterLock, 15_000);
    expect(await bot!.store.cards.countActive()).toBe(1);
  }, 60_000);

  it.runIf(process.env.TEST_DATABASE_URL)(
    'PostgreSQL unavailable for 10 s: no watch is lost, updates resume',
    async () => {
      const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
      await admin.connect();
      const name = `taskbot_outage_${Date.now().toString(36)}`;
      await admin.query(`CREATE DATABASE ${name}`);
      const url = new URL(process.env.TEST_DATABASE_URL!);
      url.pathname = `/${name}`;
      try {
        await start({ DATABASE_URL: url.toString() });
        fake.addTask({ id: hex(2), kind: 'contact', total: 500, outcome: 'succeeded', queuedSteps: 0, runningSteps: 60, advance: 500 });
        const m = await card('oc_db', hex(2));
        await until('patched', () => m.history.length >= 2, 10_000);

        await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
        await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [name]);
        await new Promise((r) => setTimeout(r, 10_000));
        const duringOutage = m.history.length;
        await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);

        await until('updates resume', () => m.history.length > duringOutage + 1, 20_000);
        expect(await bot!.store.cards.countActive()).toBe(1);
        expect(sink.text).toMatch(/watch round failed|database connection lost/);
      } finally {
        await bot?.stop().catch(() => undefined);
        bot = undefined;
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.end();
      }
    },
    60_000,
  );
});

import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import { freshStoreUrl } from '../helpers/stores.js';
import { until } from '../helpers/bot.js';
import { exited, serve } from '../helpers/serve.js';
import { feishuEnv } from '../helpers/env.js';

const hex = (n: number) => `fa${n.toString(16).padStart(30, '0')}`;

/** `taskbot serve` against the fake Feishu. */
const serveOn = (fake: FakeFeishu, databaseUrl: string) => serve({ ...feishuEnv(fake), DATABASE_URL: databaseUrl });

describe('processes: crashes, restarts, replicas and shutdown', () => {
  let fake: FakeFeishu;
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    fake = new FakeFeishu();
    await fake.listen();
    // Tasks that move on by the clock (a step every 700 ms), whoever polls them.
    for (let i = 1; i <= 4; i++)
      fake.addTask({ id: hex(i), kind: 'contact', total: 600, outcome: 'succeeded', queuedSteps: 0, runningSteps: 80, advance: 700 });
  });
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
    await fake.close();
  });

  async function openCards(chats: string[]): Promise<string[]> {
    const ids: string[] = [];
    for (const [i, chat] of chats.entries()) {
      const { messageId, event } = fake.say(chat, `status ${hex(i + 1)}`);
      await fake.gateway.push(event);
      ids.push((await until('reply', () => fake.im.inChat(chat).find((m) => m.reply_to === messageId)?.message_id)) as string);
    }
    return ids;
  }
  const patches = (id: string) => fake.im.messages.get(id)!.history.length;

  it('kill -9 during watches: a restarted process resumes every open card within 30 s', async () => {
    const db = `sqlite:${join(mkdtempSync(join(tmpdir(), 'taskbot-kill-')), 'bot.db')}`;
    const a = serveOn(fake, db);
    children.push(a.child);
    await a.ready;
    await fake.gateway.waitForConnection();
    const cards = await openCards(['oc_k1', 'oc_k2', 'oc_k3']);
    await until('first patches', () => cards.every((c) => patches(c) >= 2), 15_000);
    a.child.kill('SIGKILL');
    await exited(a.child);
    const before = cards.map(patches);

    const b = serveOn(fake, db);
    children.push(b.child);
    const restartedAt = Date.now();
    await b.ready;
    await until('every card updated again', () => cards.every((c, i) => patches(c) > before[i]!), 30_000);
    expect(Date.now() - restartedAt).toBeLessThan(30_000);
  }, 60_000);

  it.runIf(process.env.TEST_DATABASE_URL)(
    'two replicas on one PostgreSQL: when one is killed, the other takes over within the lease time',
    async () => {
      const db = await freshStoreUrl('postgres');
      const a = serveOn(fake, db);
      const b = serveOn(fake, db);
      children.push(a.child, b.child);
      await Promise.all([a.ready, b.ready]);
      await until('two connections', () => fake.gateway.connected === 2);
      const cards = await openCards(['oc_r1', 'oc_r2', 'oc_r3', 'oc_r4']);
      await until('first patches', () => cards.every((c) => patches(c) >= 2), 15_000);
      // Each update of each card happens once: no card is patched twice with the same content.
      for (const c of cards) {
        const h = fake.im.messages.get(c)!.history.map((x) => JSON.stringify(x.card));
        for (let i = 1; i < h.length; i++) expect(h[i]).not.toBe(h[i - 1]);
      }
      a.child.kill('SIGKILL');
      await exited(a.child);
      const before = cards.map(patches);
      const killedAt = Date.now();
      await until('the survivor updates every card', () => cards.every((c, i) => patches(c) > before[i]!), 25_000);
      // Lease 15 s + one poll.
      expect(Date.now() - killedAt).toBeLessThan(20_000);
    },
    60_000,
  );

  it.runIf(process.env.TEST_DATABASE_URL)(
    'SIGTERM drains in-flight work, releases its leases and exits 0',
    async () => {
      const db = await freshStoreUrl('postgres');
      const a = serveOn(fake, db);
      children.push(a.child);
      await a.ready;
      await fake.gateway.waitForConnection();
      const cards = await openCards(['oc_t1', 'oc_t2']);
      await until('patches', () => cards.every((c) => patches(c) >= 2), 15_000);
      a.child.kill('SIGTERM');
      expect(await exited(a.child)).toBe(0);
      expect(a.log()).toContain('taskbot stopped');
      const client = new pg.Client({ connectionString: db });
      await client.connect();
      const { rows } = await client.query('select count(*)::int as n from tasks where lease_owner is not null');
      const active = await client.query("select count(*)::int as n from cards where status = 'active'");
      await client.end();
      expect(rows[0].n).toBe(0);
      expect(active.rows[0].n).toBe(2); // the watches survive the shutdown
    },
    60_000,
  );
});

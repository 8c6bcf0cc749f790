import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { until } from '../helpers/bot.js';
import { exited, type Served } from '../helpers/serve.js';
import { feishuProcesses } from '../helpers/cluster.js';

const hex = (n: number) => `ae${n.toString(16).padStart(30, '0')}`;

describe('a replica dies with card writes queued', () => {
  const cluster = feishuProcesses();

  it.runIf(process.env.TEST_DATABASE_URL)(
    'the final states it owed are sent by another replica within the lease time (15 s), not after the 30 s re-check',
    async () => {
      const url = await cluster.postgres();
      const fake = await cluster.fake();
      // Running, but with nothing new to show until it ends: no card write is queued anywhere before the end.
      fake.addTask({ id: hex(1), kind: 'contact', total: 600, outcome: 'succeeded', queuedSteps: 0, runningSteps: 1_000_000 });
      const replicas: Served[] = [0, 1].map(() => cluster.spawn({ DATABASE_URL: url }));
      await Promise.all(replicas.map((r) => r.ready));
      await until('two connections', () => fake.gateway.connected === 2, 15_000);
      const chats = Array.from({ length: 6 }, (_, i) => `oc_take${i}`);
      const cards: string[] = [];
      for (const chat of chats) {
        const { messageId, event } = fake.say(chat, `status ${hex(1)}`);
        await fake.gateway.push(event);
        cards.push((await until('a card', () => fake.im.inChat(chat).find((m) => m.reply_to === messageId)?.message_id, 10_000)) as string);
      }
      // The platform turns slow, and the task ends: its finals queue up behind slow writes.
      fake.latency.push({ path: /\/im\/v1\/messages\/[^/]+$/, ms: 2500 });
      fake.addTask({ id: hex(1), kind: 'contact', total: 600, outcome: 'succeeded', queuedSteps: 0, runningSteps: 0 });
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      try {
        const holder = await until(
          'a replica holds the finals',
          async () => {
            const { rows } = await db.query<{ who: string | null }>('select held_by as who from tasks');
            return rows[0]?.who ?? undefined;
          },
          20_000,
        );
        const victim = replicas.find((r) => r.log().includes(holder))!;
        victim.child.kill('SIGKILL');
        await exited(victim.child);
        const killedAt = Date.now();
        const final = (id: string) => JSON.stringify(fake.im.messages.get(id)!.card).includes('"template":"green"');
        const owed = cards.filter((c) => !final(c));
        expect(owed.length).toBeGreaterThan(0);
        // The survivor takes over within the lease (plus one 2.5 s write), and then sends the rest.
        await until('the survivor sends the first final it took over', () => owed.some(final), 30_000);
        expect(Date.now() - killedAt).toBeLessThan(15_000 + 2500 + 1000);
        await until('every card shows the end', () => cards.every(final), 40_000);
      } finally {
        await db.end();
      }
    },
    90_000,
  );
});

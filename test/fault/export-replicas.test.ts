import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { until } from '../helpers/bot.js';
import { feishuProcesses } from '../helpers/cluster.js';

const hex = (n: number) => `e0${n.toString(16).padStart(30, '0')}`;
const toast = (ack: { data?: unknown }) => (ack.data as { toast: { content: string } }).toast.content;
const STARTED = 'Preparing a file of the failed items; it will be posted as a reply to this card';
const BUSY = 'The file of the failed items is already being prepared';
const RECENT = 'The file of the failed items was just posted under this card; you can export again in a minute';

describe('Export failed items on several replicas', () => {
  const cluster = feishuProcesses();

  it.runIf(process.env.TEST_DATABASE_URL)(
    'two presses of one card landing on two replicas at once post one file, the other press is told it is being made; presses after it are pointed at it',
    async () => {
      const url = await cluster.postgres();
      const fake = await cluster.fake();
      fake.addTask({ id: hex(1), kind: 'contact', total: 20, outcome: 'partial', queuedSteps: 0, runningSteps: 1, advance: 'poll' });
      const replicas = [0, 1].map(() => cluster.spawn({ DATABASE_URL: url }));
      await Promise.all(replicas.map((r) => r.ready));
      await fake.gateway.waitForConnection(15_000, 2);

      const { messageId, event } = fake.say('oc_exp', `status ${hex(1)}`);
      await fake.gateway.push(event);
      const card = await until(
        'the finished card',
        () => fake.im.inChat('oc_exp').find((m) => m.reply_to === messageId && JSON.stringify(m.card).includes('"action":"export"')),
        15_000,
      );
      // The card is recorded once it was sent: a press before that would find no card to export from.
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      try {
        await until(
          'the card is recorded',
          async () => ((await db.query('select 1 from cards where handle = $1', [card.message_id])).rowCount ?? 0) > 0,
          10_000,
        );
      } finally {
        await db.end();
      }
      // The upload takes a while, so the first file is still being made when the other press arrives.
      fake.latency.push({ path: /\/open-apis\/im\/v1\/files/, ms: 1500 });
      const files = () => fake.im.inChat('oc_exp').filter((m) => m.file);

      const acks = await Promise.all([0, 1].map((on) => fake.gateway.push(fake.click(card.message_id, 'export'), 10_000, on)));
      await until('the file', () => files()[0], 15_000);
      // Time for a second file, had the other replica made one too (both uploads began together).
      await new Promise((r) => setTimeout(r, 2500));
      expect(files()).toHaveLength(1);
      expect(fake.calls('/open-apis/im/v1/files')).toHaveLength(1);
      expect(acks.map(toast).sort()).toEqual([STARTED, BUSY].sort());

      // The file is out: presses on either replica in the next minute are pointed at it, and make none.
      for (const on of [0, 1]) expect(toast(await fake.gateway.push(fake.click(card.message_id, 'export'), 10_000, on))).toBe(RECENT);
      await new Promise((r) => setTimeout(r, 500));
      expect(files()).toHaveLength(1);
      expect(files().every((m) => m.reply_to === card.message_id)).toBe(true);
    },
    60_000,
  );
});

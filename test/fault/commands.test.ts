import { describe, expect, it } from 'vitest';
import { until } from '../helpers/bot.js';
import { exited } from '../helpers/serve.js';
import { feishuProcesses } from '../helpers/cluster.js';

const hex = (n: number) => `cd${n.toString(16).padStart(30, '0')}`;

describe('commands survive the replica that acknowledged them', () => {
  const cluster = feishuProcesses();

  it.runIf(process.env.TEST_DATABASE_URL)(
    'three replicas on one PostgreSQL, one killed with kill -9 mid-burst: every command is answered, once',
    async () => {
      const url = await cluster.postgres();
      const fake = await cluster.fake();
      // Each answer takes a while (the task is fetched first): a replica always holds commands it acknowledged but has not answered.
      fake.latency.push({ path: /contact\/v2\/task\/get/, ms: 1200 });
      for (let i = 0; i < 40; i++) fake.addTask({ id: hex(i), kind: 'contact', total: 10, outcome: 'succeeded', queuedSteps: 0, runningSteps: 50 });
      const replicas = [0, 1, 2].map(() => cluster.spawn({ DATABASE_URL: url }));
      await Promise.all(replicas.map((r) => r.ready));
      await until('three connections', () => fake.gateway.connected === 3, 15_000);

      const asked: string[] = [];
      const push = async (i: number) => {
        const { messageId, event } = fake.say(`oc_burst${i % 8}`, `status ${hex(i)}`);
        asked.push(messageId);
        // A delivery the dead replica never acknowledged is delivered again, as the platform does.
        for (let tries = 0; ; tries++) {
          const ack = await fake.gateway.push(event, 3000).catch(() => undefined);
          if (ack?.code === 200 || tries > 5) break;
        }
      };
      const burst: Promise<void>[] = [];
      for (let i = 0; i < 40; i++) {
        burst.push(push(i));
        if (i === 20) {
          // Every replica is holding some of the first twenty now.
          replicas[0]!.child.kill('SIGKILL');
          await exited(replicas[0]!.child);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      await Promise.all(burst);
      const answers = (id: string) => [...fake.im.messages.values()].filter((m) => m.reply_to === id);
      await until('every command answered', () => asked.every((id) => answers(id).length > 0), 45_000);
      await new Promise((r) => setTimeout(r, 2000));
      for (const id of asked) expect(answers(id), id).toHaveLength(1);
      // The survivors took over the dead replica's commands: it held some when it died.
      const survivors = replicas
        .slice(1)
        .map((r) => r.log())
        .join('');
      expect(survivors).toContain('answering a command its first holder left unanswered');
    },
    120_000,
  );
});

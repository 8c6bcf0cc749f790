import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import { FakeDingtalk } from '../../src/sandbox/fake-dingtalk.js';
import { DingtalkMessenger } from '../../src/platforms/dingtalk/messenger.js';
import { DingtalkApi } from '../../src/platforms/dingtalk/api-client.js';
import { noticeCard } from '../../src/cards/notices.js';
import { until } from '../helpers/bot.js';
import { exited } from '../helpers/serve.js';
import { feishuProcesses } from '../helpers/cluster.js';

const TOKEN = 'test-api-token-0123456789';
const DRIVE = '7360595374803812377';
const DRIVE2 = '7360595374803812378';

/** Idempotency-Keys outlive the request that took them only as long as its lease: a crash or a stop leaves them retryable. */
describe('script API keys across crashes and stops', () => {
  const cluster = feishuProcesses();
  let fake: FakeFeishu;
  const start = (db: string) => cluster.start({ DATABASE_URL: db, API_TOKEN: TOKEN });
  const post = (url: string, key: string, taskId = DRIVE) =>
    fetch(`${url}/api/v1/watches`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ platform: 'feishu', chatId: 'oc_script', taskId }),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as { cardKey?: string; error?: { code: string } } }));

  it('kill -9 after the card was posted but before the answer: the retry is refused while the key is leased, then answered with the same card, never a second one', async () => {
    fake = await cluster.fake();
    fake.addTask({ id: DRIVE, kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 60 });
    const db = `sqlite:${join(mkdtempSync(join(tmpdir(), 'taskbot-keys-')), 'bot.db')}`;
    const a = await start(db);
    // The post reaches the platform, which answers slowly: the process dies before it hears back.
    fake.latency.push({ path: /\/im\/v1\/messages$/, ms: 1500 });
    const first = post(a.url()!, 'nightly-import').catch(() => undefined);
    await until('the post reached the platform', () => fake.calls(/\/im\/v1\/messages$/).length > 0, 10_000);
    a.child.kill('SIGKILL');
    await exited(a.child);
    await first;
    fake.latency.length = 0;
    await until('the card is in the chat', () => fake.im.inChat('oc_script').length === 1, 5000);

    const b = await start(db);
    const killedAt = Date.now();
    expect((await post(b.url()!, 'nightly-import')).status).toBe(409); // still leased to the dead process
    const retried = await until(
      'the key is retryable',
      async () => {
        const r = await post(b.url()!, 'nightly-import');
        return r.status === 201 && r;
      },
      30_000,
    );
    expect(Date.now() - killedAt).toBeLessThan(30_000);
    expect(fake.im.inChat('oc_script')).toHaveLength(1);
    expect(retried.body.cardKey).toBe(`feishu:${fake.im.inChat('oc_script')[0]!.message_id}`);
  }, 60_000);

  it('SIGTERM while a request is being worked: it may finish; one that cannot leaves its key retryable at once', async () => {
    fake = await cluster.fake();
    // Two tasks: reads of one task at once are one upstream read.
    for (const id of [DRIVE, DRIVE2]) fake.addTask({ id, kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 60 });
    const db = `sqlite:${join(mkdtempSync(join(tmpdir(), 'taskbot-keys-')), 'bot.db')}`;
    const a = await start(db);
    // One quick enough to finish within the stop's grace, one that is not.
    fake.latency.push({ path: /task_check/, ms: 1000 });
    const quick = post(a.url()!, 'quick');
    await until('the first fetch', () => fake.calls(/task_check/).length === 1);
    fake.latency[0]!.ms = 20_000;
    const slow = post(a.url()!, 'slow', DRIVE2).catch(() => ({ status: 0, body: {} }));
    await until('the second fetch', () => fake.calls(/task_check/).length === 2);
    a.child.kill('SIGTERM');
    expect((await quick).status).toBe(201);
    expect((await slow).status).not.toBe(201);
    expect(await exited(a.child)).toBe(0);
    fake.latency.length = 0;

    const b = await start(db);
    const again = await post(b.url()!, 'slow', DRIVE2);
    expect(again.status).toBe(201); // not 409 for the next 24 hours
  }, 60_000);
});

describe('DingTalk: a repeated answer names the same card instance', () => {
  it('two sends under one key create one card (its outTrackId comes from the key); without a key, each is its own', async () => {
    const d = new FakeDingtalk();
    await d.listen();
    try {
      const api = new DingtalkApi({ clientId: d.clientId, clientSecret: d.clientSecret, apiBase: d.baseUrl, oapiBase: d.baseUrl, timeoutMs: 2000 });
      const m = new DingtalkMessenger(api, { robotCode: d.clientId, cardTemplateId: 'tpl' });
      const card = { ...noticeCard('en', 'x'), type: 'task' as const };
      const chat = { app: 'dingtalk', platform: 'dingtalk' as const, chatId: 'cidKeys==' };
      const a = await m.send(chat, card, { idempotencyKey: 'api:nightly' });
      const b = await m.send(chat, card, { idempotencyKey: 'api:nightly' });
      expect(b.handle).toBe(a.handle);
      expect(d.im.cards.size).toBe(1);
      const c = await m.send(chat, card);
      expect(c.handle).not.toBe(a.handle);
      expect(d.im.cards.size).toBe(2);
    } finally {
      await d.close();
    }
  });
});

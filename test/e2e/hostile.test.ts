import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import type { Bot } from '../../src/app/bot.js';
import { startTestBot, until, type LogSink } from '../helpers/bot.js';

describe('hostile input and secrets, end to end (Feishu long connection)', () => {
  let fake: FakeFeishu;
  let bot: Bot;
  let sink: LogSink;

  beforeAll(async () => {
    fake = new FakeFeishu();
    await fake.listen();
    ({ bot, sink } = await startTestBot({ FEISHU_APP_ID: fake.appId, FEISHU_APP_SECRET: fake.appSecret, FEISHU_DOMAIN: fake.baseUrl }, undefined, {
      flood: { perUser: 20, perChat: 60, windowMs: 60_000 },
    }));
    await fake.gateway.waitForConnection();
  });
  afterAll(async () => {
    await bot.stop();
    await fake.close();
  });

  const replies = (chat: string) => fake.im.inChat(chat);
  const text = (c: unknown) => JSON.stringify(c);

  it('one person flooding 1,000 commands is answered politely within the limit, and another chat is not starved', async () => {
    const flood = Array.from({ length: 1000 }, () => fake.say('oc_flood', 'help', { user: 'ou_flooder' }));
    const pushes = flood.map((f) => fake.gateway.push(f.event));
    const other = fake.say('oc_quiet', 'help', { user: 'ou_other' });
    const started = Date.now();
    await fake.gateway.push(other.event);
    await until('the other chat is answered', () => replies('oc_quiet').length === 1, 5000);
    const otherMs = Date.now() - started;
    await Promise.all(pushes);
    await until('the flood is worked off', () => replies('oc_flood').length >= 21, 20_000);
    await new Promise((r) => setTimeout(r, 500));
    const answers = replies('oc_flood');
    expect(answers).toHaveLength(21);
    expect(answers.filter((m) => text(m.card).includes('Too many requests'))).toHaveLength(1);
    expect(otherMs).toBeLessThan(5000);
  });

  it('answers an oversized message, ids with unicode, control characters and SQL with clear errors', async () => {
    const big = fake.say('oc_hostile', `status ${'9'.repeat(100_000)}`);
    await fake.gateway.push(big.event);
    for (const id of ['任务１２３', '1\u0000; DROP TABLE cards; --', "1' OR '1'='1", '\u202eabc']) {
      await fake.gateway.push(fake.say('oc_hostile', `status ${id}`).event);
    }
    await until('five answers', () => replies('oc_hostile').length === 5, 8000);
    for (const m of replies('oc_hostile')) expect(text(m.card)).toMatch(/INVALID_TASK_ID|Did not understand|There is no/);
    // The store is intact and still answers.
    expect(await bot.store.cards.countActive()).toBeGreaterThanOrEqual(0);
  });

  it('masks emails and mobiles from contact tasks in cards', async () => {
    const id = 'feedface'.repeat(4);
    fake.addTask({ id, kind: 'contact', total: 10, outcome: 'partial', queuedSteps: 0, runningSteps: 0 });
    await fake.gateway.push(fake.say('oc_pii', `status ${id}`).event);
    const card = await until('the card', () => replies('oc_pii')[0]);
    expect(text(card.card)).toContain('u***@example.com');
    expect(text(card.card)).toMatch(/130\*{4}\d{4}/);
    expect(text(card.card)).not.toMatch(/user\d+@example\.com|130\d{8}/);
  });

  it('sweeps expired dedupe keys', async () => {
    const { bot: b } = await startTestBot({ FEISHU_APP_ID: fake.appId, FEISHU_APP_SECRET: fake.appSecret, FEISHU_DOMAIN: fake.baseUrl }, undefined, {
      sweepMs: 50,
    });
    try {
      await b.store.inbox.claim(['old-key'], Date.now() - 10_000, 1000);
      await b.store.inbox.claim(['fresh-key'], Date.now(), 60_000);
      const keys = async () => (await b.store.db.selectFrom('dedupe').select('key').execute()).map((r) => r.key);
      await until('the sweep', async () => !(await keys()).includes('old-key'), 3000);
      expect(await keys()).toEqual(['fresh-key']);
    } finally {
      await b.stop();
    }
  });

  it('never writes a secret or a token to the logs of the whole run', () => {
    expect(sink.lines.length).toBeGreaterThan(10);
    expect(fake.tokens.all.length).toBeGreaterThan(0);
    for (const secret of [fake.appSecret, ...fake.tokens.all]) expect(sink.text).not.toContain(secret);
  });
});

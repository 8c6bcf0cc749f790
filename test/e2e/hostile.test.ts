import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import type { Bot } from '../../src/app/bot.js';
import { feishuBot, startTestBot, until, type LogSink } from '../helpers/bot.js';
import { feishuEnv } from '../helpers/env.js';

describe('hostile input and secrets, end to end (Feishu long connection)', () => {
  let fake: FakeFeishu;
  let bot: Bot;
  let sink: LogSink;

  beforeAll(async () => {
    ({ fake, bot, sink } = await feishuBot());
  });
  afterAll(async () => {
    await bot.stop();
    await fake.close();
  });

  const replies = (chat: string) => fake.im.inChat(chat);
  const text = (c: unknown) => JSON.stringify(c);

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
    const { bot: b } = await startTestBot(feishuEnv(fake), undefined, { sweepMs: 50 });
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
    expect(sink.lines.length).toBeGreaterThan(2);
    expect(fake.tokens.all.length).toBeGreaterThan(0);
    for (const secret of [fake.appSecret, ...fake.tokens.all]) expect(sink.text).not.toContain(secret);
  });
});

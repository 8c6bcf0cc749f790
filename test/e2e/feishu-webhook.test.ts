import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import type { Bot } from '../../src/app/bot.js';
import { startTestBot, until } from '../helpers/bot.js';
import { encrypt, signed, VERIFICATION_TOKEN as TOKEN, webhookEnv } from '../helpers/feishu-webhook.js';

describe('Feishu bot in webhook mode', () => {
  let fake: FakeFeishu;
  let bot: Bot;

  beforeAll(async () => {
    fake = new FakeFeishu();
    await fake.listen();
    ({ bot } = await startTestBot(webhookEnv(fake)));
    fake.addTask({ id: '42', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 50 });
  });
  afterAll(async () => {
    await bot.stop();
    await fake.close();
  });

  const post = (path: string, body: string, headers: Record<string, string>) => fetch(`${bot.url}${path}`, { method: 'POST', body, headers });
  const repliesTo = (id: string) => [...fake.im.messages.values()].filter((m) => m.reply_to === id);

  it('answers the URL check, plain and encrypted, only with the right token', async () => {
    const plain = JSON.stringify({ type: 'url_verification', challenge: 'ch-1', token: TOKEN });
    expect(await (await post('/feishu/webhook/event', plain, { 'content-type': 'application/json' })).json()).toEqual({ challenge: 'ch-1' });
    const enc = JSON.stringify({ encrypt: encrypt({ type: 'url_verification', challenge: 'ch-2', token: TOKEN }) });
    expect(await (await post('/feishu/webhook/card', enc, {})).json()).toEqual({ challenge: 'ch-2' });
    const wrong = JSON.stringify({ type: 'url_verification', challenge: 'x', token: 'nope' });
    expect((await post('/feishu/webhook/event', wrong, {})).status).toBe(401);
  });

  it('takes a signed event and a signed, encrypted one, and replies to each', async () => {
    const a = fake.say('oc_wh', 'status 42');
    const bodyA = JSON.stringify(a.event);
    expect((await post('/feishu/webhook/event', bodyA, signed(bodyA))).status).toBe(200);
    const b = fake.say('oc_wh', 'list');
    const bodyB = JSON.stringify({ encrypt: encrypt(b.event) });
    expect((await post('/feishu/webhook/event', bodyB, signed(bodyB))).status).toBe(200);
    await until('both replies', () => repliesTo(a.messageId).length === 1 && repliesTo(b.messageId).length === 1);
  });

  it.each([
    ['a bad signature', (body: string) => signed(body, { key: 'other-key' })],
    ['a timestamp 6 minutes old', (body: string) => signed(body, { ts: Date.now() - 6 * 60_000 })],
    ['a timestamp 6 minutes ahead', (body: string) => signed(body, { ts: Date.now() + 6 * 60_000 })],
    ['no signature headers', () => ({ 'content-type': 'application/json' })],
  ])('refuses %s with 401 and does nothing', async (_name, headers) => {
    const e = fake.say('oc_wh_bad', 'status 42');
    const body = JSON.stringify(e.event);
    expect((await post('/feishu/webhook/event', body, headers(body))).status).toBe(401);
    await new Promise((r) => setTimeout(r, 150));
    expect(repliesTo(e.messageId)).toHaveLength(0);
  });

  it('refuses a correctly signed event with the wrong verification token', async () => {
    const e = fake.say('oc_wh_bad', 'status 42');
    const body = JSON.stringify({ ...e.event, header: { ...e.event.header, token: 'stolen' } });
    expect((await post('/feishu/webhook/event', body, signed(body))).status).toBe(401);
  });

  it('refuses any request whose body was changed after signing', async () => {
    const e = fake.say('oc_wh_tamper', 'status 42');
    const body = JSON.stringify(e.event);
    const headers = signed(body);
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: body.length - 1 }), fc.integer({ min: 1, max: 255 }), async (at, delta) => {
        const bytes = Buffer.from(body);
        bytes[at] = (bytes[at]! + delta) % 256;
        const r = await fetch(`${bot.url}/feishu/webhook/event`, { method: 'POST', body: bytes, headers });
        expect([400, 401]).toContain(r.status);
      }),
      { numRuns: 40 },
    );
    expect(repliesTo(e.messageId)).toHaveLength(0);
  });

  it('answers a signed card callback with the fresh card', async () => {
    const e = fake.say('oc_wh_card', 'status 42');
    const body = JSON.stringify(e.event);
    await post('/feishu/webhook/event', body, signed(body));
    const reply = await until('reply', () => repliesTo(e.messageId)[0]);
    const click = JSON.stringify(fake.click(reply.message_id, 'refresh'));
    const r = await post('/feishu/webhook/card', click, signed(click));
    expect(r.status).toBe(200);
    const answer = (await r.json()) as { toast: { type: string }; card: { type: string; data: { schema: string } } };
    expect(answer.toast.type).toBe('success');
    expect(answer.card.data.schema).toBe('2.0');
  });
});

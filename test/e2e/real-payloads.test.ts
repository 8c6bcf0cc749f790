import { TOPIC_CARD, TOPIC_ROBOT } from 'dingtalk-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPlatformUserId } from '../../src/domain/user-id.js';
import { FakeDingtalk } from '../../src/sandbox/fake-dingtalk.js';
import { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import type { Bot } from '../../src/app/bot.js';
import { startTestBot, until } from '../helpers/bot.js';
import { dingtalkEnv, feishuEnv } from '../helpers/env.js';
import { signed, VERIFICATION_TOKEN, webhookEnv } from '../helpers/feishu-webhook.js';
import { dingtalkReplay, feishuReplay, fixture, manifest, type MessageFixture } from '../helpers/real-payloads.js';

const TEXT_ONLY = 'I read text messages only';
/** Time to let a second, wrong answer show up before saying there was exactly one. */
const SETTLE_MS = 300;
const settle = () => new Promise((r) => setTimeout(r, SETTLE_MS));

const withCommand = (f: MessageFixture) => f.outcome === 'answer' && f.reads !== '';

for (const transport of ['long connection', 'webhook'] as const) {
  describe(`real Feishu payloads over the ${transport}`, () => {
    let fake: FakeFeishu;
    let bot: Bot;

    beforeAll(async () => {
      fake = new FakeFeishu();
      await fake.listen();
      ({ bot } = await startTestBot(transport === 'webhook' ? webhookEnv(fake) : feishuEnv(fake)));
      fake.addTask({ id: '42', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 50 });
    });
    afterAll(async () => {
      await bot.stop();
      await fake.close();
    });

    /** Delivers an envelope as Feishu would on this transport; the answer to a card callback. */
    async function deliver(envelope: unknown): Promise<unknown> {
      // The platform knows the messages people send: replies to them work.
      const m = (envelope as { event?: { message?: { message_id?: string; chat_id?: string } } }).event?.message;
      if (m?.message_id && m.chat_id) fake.im.inbound.set(m.message_id, m.chat_id);
      if (transport === 'long connection') return (await fake.gateway.push(envelope)).data;
      // Feishu signs with the app's own verification token and names the app; the samples carry their apps' own.
      const header = { ...(envelope as { header: object }).header, token: VERIFICATION_TOKEN, app_id: fake.appId };
      const body = JSON.stringify({ ...(envelope as object), header });
      const r = await fetch(`${bot.url}/feishu/webhook/event`, { method: 'POST', body, headers: signed(body) });
      expect(r.status).toBe(200);
      return r.json();
    }
    const answersTo = (messageId: string) => [...fake.im.messages.values()].filter((m) => m.reply_to === messageId);

    async function exactlyOneAnswer(messageId: string): Promise<string> {
      await until('an answer', () => answersTo(messageId).length > 0);
      await settle();
      const answers = answersTo(messageId);
      expect(answers).toHaveLength(1);
      return JSON.stringify(answers[0]!.card);
    }

    it.each(manifest.feishu.messages.map((f) => [f.file, f] as const))('%s as sent: exactly one answer', async (_file, f) => {
      const { envelope, messageId } = feishuReplay(f, fake.botOpenId);
      await deliver(envelope);
      const card = await exactlyOneAnswer(messageId);
      if (f.outcome === 'not-text') expect(card).toContain(TEXT_ONLY);
      else expect(card).not.toContain(TEXT_ONLY);
    });

    it.each(manifest.feishu.messages.filter(withCommand).map((f) => [f.file, f] as const))('%s with a command typed in it: the live card', async (_file, f) => {
      const { envelope, messageId } = feishuReplay(f, fake.botOpenId, 'status 42');
      await deliver(envelope);
      expect(await exactlyOneAnswer(messageId)).toContain('"action":"refresh"');
    });

    it.each(manifest.feishu.cards.map((c) => [c.file] as const))('%s (a click on a card that is not ours): a toast, no crash', async (file) => {
      const answer = (await deliver(fixture(file))) as { toast?: { type: string } };
      expect(answer.toast?.type).toBe('info');
    });

    it.each(manifest.feishu.cards.map((c) => [c.file] as const))('%s carrying our Refresh value on our card: the fresh card', async (file) => {
      const { envelope, messageId } = feishuReplay(manifest.feishu.messages[1]!, fake.botOpenId, 'status 42');
      await deliver(envelope);
      const reply = await until('the card', () => answersTo(messageId)[0]);
      const click = fixture(file) as { header: Record<string, unknown>; event: { action: Record<string, unknown>; context: Record<string, unknown> } };
      click.header.event_id = `${String(click.header.event_id)}-${messageId}`;
      click.event.action.value = { action: 'refresh' };
      click.event.context.open_message_id = reply.message_id;
      click.event.context.open_chat_id = reply.chat_id;
      const answer = (await deliver(click)) as { toast?: { type: string } };
      expect(['success', 'info']).toContain(answer.toast?.type);
    });

    it.each(manifest.feishu.cards.map((c) => [c.file] as const))(
      '%s carrying our Notify me value: the presser (its operator.open_id) waits, and the card counts one',
      async (file) => {
        const { envelope, messageId } = feishuReplay(manifest.feishu.messages[1]!, fake.botOpenId, 'status 42');
        await deliver(envelope);
        const reply = await until('the card', () => answersTo(messageId)[0]);
        const click = fixture(file) as {
          header: Record<string, unknown>;
          event: { operator: { open_id: string }; action: Record<string, unknown>; context: Record<string, unknown> };
        };
        click.header.event_id = `${String(click.header.event_id)}-notify-${messageId}`;
        click.event.action.value = { action: 'notify' };
        click.event.context.open_message_id = reply.message_id;
        click.event.context.open_chat_id = reply.chat_id;
        const answer = (await deliver(click)) as { toast?: { content: string }; card?: { data: unknown } };
        const presser = click.event.operator.open_id;
        if (isPlatformUserId(presser)) {
          expect(answer.toast?.content).toContain('mentioned here when the task ends');
          expect(JSON.stringify(answer.card?.data)).toContain('1 waiting to be notified');
          expect((await bot.store.subscribers.owed(`feishu:${reply.message_id}`)).map((o) => o.userId)).toEqual([presser]);
        } else {
          // The doc sample's open_id is masked ("ou_3c14…*****"): not an id anyone can be mentioned by.
          expect(answer.toast?.content).toContain('did not work');
          expect(await bot.store.subscribers.owed(`feishu:${reply.message_id}`)).toEqual([]);
        }
      },
    );
  });
}

describe('real DingTalk payloads over Stream', () => {
  let fake: FakeDingtalk;
  let bot: Bot;

  beforeAll(async () => {
    fake = new FakeDingtalk();
    await fake.listen();
    ({ bot } = await startTestBot(dingtalkEnv(fake)));
    fake.addTask({ id: 'copy-1', kind: 'doc', total: 10, outcome: 'succeeded', queuedSteps: 0, runningSteps: 50 });
  });
  afterAll(async () => {
    await bot.stop();
    await fake.close();
  });

  /** Everything the bot said to the person or the group of a replay: markdown messages and cards. */
  const answersIn = (r: { staffId: string; conversationId: string; p2p: boolean }) => {
    const to = r.p2p ? r.staffId : r.conversationId;
    return [
      ...fake.im.messages.filter((m) => m.to === to).map((m) => m.text),
      ...[...fake.im.cards.values()].filter((c) => c.openSpaceId.endsWith(`.${to}`)).map((c) => JSON.stringify(c.params)),
    ];
  };
  async function exactlyOneAnswer(r: Parameters<typeof answersIn>[0]): Promise<string> {
    await until('an answer', () => answersIn(r).length > 0);
    await settle();
    const answers = answersIn(r);
    expect(answers).toHaveLength(1);
    return answers[0]!;
  }
  const push = async (data: unknown) => expect((await fake.stream.push(TOPIC_ROBOT, data)).code).toBe(200);

  it.each(manifest.dingtalk.messages.map((f) => [f.file, f] as const))('%s as sent: exactly one answer', async (_file, f) => {
    const r = dingtalkReplay(f, fake.baseUrl);
    await push(r.data);
    const answer = await exactlyOneAnswer(r);
    if (f.outcome === 'not-text') expect(answer).toContain(TEXT_ONLY);
    else expect(answer).not.toContain(TEXT_ONLY);
  });

  it.each(manifest.dingtalk.messages.filter(withCommand).map((f) => [f.file, f] as const))(
    '%s with a command in its words (text, rich text, speech): the live card',
    async (_file, f) => {
      const r = dingtalkReplay(f, fake.baseUrl, 'status copy-1 doc');
      await push(r.data);
      expect(await exactlyOneAnswer(r)).toContain('"stateCode"');
    },
  );

  it('the card callback shape: answered, never dropped', async () => {
    const ack = await fake.stream.push(TOPIC_CARD, fixture(manifest.dingtalk.cards[0]!.file));
    expect(ack.code).toBe(200);
    expect(ack.data).toMatchObject({ response: { cardData: { cardParamMap: { note: expect.any(String) } } } });
  });
});

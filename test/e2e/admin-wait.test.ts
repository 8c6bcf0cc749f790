import { afterEach, describe, expect, it } from 'vitest';
import type { Bot } from '../../src/app/bot.js';
import { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import { startTestBot, until, type LogSink } from '../helpers/bot.js';
import { feishuEnv } from '../helpers/env.js';

const CONTACT = 'ad0000000000000000000000000000a1';

describe('a scope removed under a live card, then granted again (the fake Feishu refuses for a while)', () => {
  let fake: FakeFeishu | undefined;
  let bot: Bot | undefined;
  afterEach(async () => {
    await bot?.stop();
    await fake?.close();
    bot = fake = undefined;
  });

  it('the card waits instead of ending, the admin is told once, Refresh says why, and once granted the end and the mention go out', async () => {
    fake = new FakeFeishu();
    await fake.listen();
    let sink: LogSink;
    ({ bot, sink } = await startTestBot(feishuEnv(fake)));
    fake.addTask({ id: CONTACT, kind: 'contact', total: 50, outcome: 'succeeded', queuedSteps: 0, runningSteps: 3000, advance: 1 });
    const { messageId, event } = fake.say('oc_scope', `status ${CONTACT}`);
    await fake.gateway.push(event);
    const card = await until('the card', () => fake!.im.inChat('oc_scope').find((m) => m.reply_to === messageId));
    const presser = 'ou_presser0000000000000000000001';
    await fake.gateway.push(fake.click(card.message_id, 'notify', { user: presser }));
    await until('waiting', async () => (await bot!.store.cards.get(`feishu:${card.message_id}`))?.waiting === 1);

    // The admin removes the message scope; the task ends meanwhile.
    const paths = [`/open-apis/im/v1/messages/${card.message_id}`, `/open-apis/im/v1/messages/${card.message_id}/reply`];
    for (const p of paths) fake.denyScope(p);
    fake.addTask({ id: CONTACT, kind: 'contact', total: 50, outcome: 'succeeded', queuedSteps: 0, runningSteps: 0 });
    await until(
      'the card waits for the admin',
      async () => (await bot!.store.cards.get(`feishu:${card.message_id}`))?.last_error?.startsWith('PERMISSION_DENIED'),
      10_000,
    );
    expect(await bot.store.cards.get(`feishu:${card.message_id}`)).toMatchObject({
      status: 'done',
      last_error: 'PERMISSION_DENIED: im:message | im:message:send_as_bot',
    });
    expect(await bot.metrics.text()).toMatch(/^taskbot_needs_admin\{app="feishu",platform="feishu",code="PERMISSION_DENIED"\} 1$/m);
    const ack = await fake.gateway.push(fake.click(card.message_id, 'refresh'));
    expect(JSON.stringify(ack.data)).toContain('taskbot cannot update this card');
    expect(JSON.stringify(ack.data)).toContain('im:message');
    await new Promise((r) => setTimeout(r, 3000)); // more tries, still refused
    expect(sink.lines.filter((l) => l.includes('the cards of the app feishu until its admin acts'))).toHaveLength(1);
    expect(JSON.stringify(card.card)).not.toContain('"template":"green"');

    // Granted again: the card catches up by itself, then the person waiting is told.
    for (const p of paths) fake.restoreScope(p);
    await until('the final state', () => JSON.stringify(card.card).includes('"template":"green"'), 20_000);
    const mention = await until(
      'the mention',
      () => fake!.im.inChat('oc_scope').find((m) => m.reply_to === card.message_id && m.text?.includes(presser)),
      10_000,
    );
    expect(mention.text).toContain('Succeeded');
    expect(sink.text).toContain('the cards of the app feishu update again');
    expect(await bot.metrics.text()).not.toMatch(/^taskbot_needs_admin\{[^}]*\} 1$/m);
  }, 60_000);
});

import { TOPIC_CARD, TOPIC_ROBOT } from 'dingtalk-stream';
import { describe, expect, it } from 'vitest';
import { platformsEach, until, withDingtalk, withFeishu } from '../helpers/bot.js';

/** Notify me over the real transports: the button, the count on the card, and the one mention at the end. */
describe('Notify me, end to end', () => {
  const t = platformsEach({ neighbours: true });

  it('Feishu: the press is answered with the card counting one waiting; the end is one reply to the card mentioning the presser', async () => {
    const feishu = await withFeishu(t);
    // Ends after a few seconds whatever the polling does.
    feishu.addTask({ id: '123456789', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 3, advance: 1000 });
    const { messageId, event } = feishu.say('oc_g', 'status 123456789');
    await feishu.gateway.push(event);
    const f = feishu;
    const card = await until('the card', () => [...f.im.messages.values()].find((m) => m.reply_to === messageId));
    const ack = await feishu.gateway.push(feishu.click(card.message_id, 'notify', { chatId: 'oc_g', user: 'ou_alice' }));
    const answer = ack.data as { toast: { content: string }; card?: { data: unknown } };
    expect(answer.toast.content).toContain('You will be mentioned here when the task ends');
    expect(JSON.stringify(answer.card?.data)).toContain('1 waiting to be notified');
    expect(JSON.stringify(answer.card?.data)).not.toContain('ou_alice');
    // A press by an id that is not one (hostile or broken) is refused, never mentioned.
    const odd = await feishu.gateway.push(feishu.click(card.message_id, 'notify', { chatId: 'oc_g', user: 'ou_x"></at><at user_id="all' }));
    expect((odd.data as { toast: { content: string } }).toast.content).toContain('did not work');

    const mention = await until('the mention', () => f.im.inChat('oc_g').find((m) => m.text !== undefined), 10_000);
    expect(mention.reply_to).toBe(card.message_id);
    expect(mention.text).toBe('<at user_id="ou_alice"></at> Drive folder task · 123456789 has ended: Succeeded. The task card above has the details.');
    await new Promise((r) => setTimeout(r, 800));
    expect(f.im.inChat('oc_g').filter((m) => m.text !== undefined)).toHaveLength(1);
  });

  it('DingTalk: the press is answered with the count; the end mentions the presser through the session webhook (at.atUserIds)', async () => {
    const dingtalk = await withDingtalk(t);
    dingtalk.users.set('staff001', 'union-001');
    dingtalk.addTask({ id: 'copy-9', kind: 'doc', total: 10, outcome: 'partial', queuedSteps: 0, runningSteps: 3, advance: 1000 });
    await dingtalk.stream.push(TOPIC_ROBOT, dingtalk.robotMessage('cidG==', 'status copy-9').data);
    const d = dingtalk;
    const card = await until('the card', () => [...d.im.cards.values()][0]);
    expect(card.params).toMatchObject({ showNotify: 'true', notifyLabel: 'Notify me' });
    const ack = await dingtalk.stream.push(TOPIC_CARD, dingtalk.cardClick(card.outTrackId, 'notify', 'staff007'));
    const params = (ack.data as { response?: { cardData?: { cardParamMap?: Record<string, string> } } }).response?.cardData?.cardParamMap;
    expect(params?.body).toContain('1 waiting to be notified');
    const told = await until('the mention', () => d.im.messages.find((m) => m.via === 'session' && m.atUserIds), 10_000);
    expect(told).toMatchObject({ to: 'cidG==', atUserIds: ['staff007'] });
    expect(told.text).toMatch(/^@staff007 DingTalk doc task · copy-9 has ended: Partly failed/);
  });
});

import { describe, expect, it } from 'vitest';
import { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import { p2pChatOf, type FakeMessage } from '../../src/sandbox/fake-feishu-im.js';
import { platformsEach, startTestBot, until, withFeishu } from '../helpers/bot.js';
import { signed, webhookEnv } from '../helpers/feishu-webhook.js';
import { feishuCardProblems } from '../helpers/feishu-card-rules.js';

const toast = (ack: { data?: unknown }) => (ack.data as { toast: { type: string; content: string } }).toast;
const USER = 'ou_user00000000000000000000000001';

/** The help card's Track a task form and the bot menu, over the real SDK and transports. */
describe('Feishu: a form to start tracking, and the bot menu', () => {
  const t = platformsEach({ neighbours: true });
  const start = () => withFeishu(t);

  async function helpCard(f: FakeFeishu, chat: string): Promise<FakeMessage> {
    const { messageId, event } = f.say(chat, 'help');
    await f.gateway.push(event);
    return until('the help card', () => [...f.im.messages.values()].find((m) => m.reply_to === messageId));
  }

  it('help carries the form (at the root, by the JSON 2.0 rules); a bad id is answered in the toast and nothing is sent; a good one is the status command', async () => {
    const f = await start();
    const help = await helpCard(f, 'oc_f');
    expect(feishuCardProblems(help.card)).toEqual([]);
    const form = (help.card.body as { elements: { tag: string; elements?: { tag: string; name?: string }[] }[] }).elements.find((e) => e.tag === 'form')!;
    expect(form.elements!.map((e) => e.name).filter(Boolean)).toEqual(['task_id', 'kind', 'notify', 'submit']);

    const before = f.im.messages.size;
    for (const [values, says] of [
      [{ task_id: '', kind: 'detect', notify: false }, 'task id'],
      [{ task_id: 'not-an-id!', kind: 'detect', notify: false }, 'not a feishu task id'],
      [{ task_id: '123', kind: 'contact', notify: false }, '32 hexadecimal characters'],
      [{ task_id: '1 2', kind: 'detect' }, 'Did not understand'],
    ] as const) {
      const t = toast(await f.gateway.push(f.submitForm(help.message_id, values)));
      expect(t.content).toContain(says);
      expect(t.type).toBe('error');
      expect(t.content).toContain(says);
    }
    // No card replaced the form (it stays filled) and nothing was posted.
    expect(f.im.messages.size).toBe(before);
    expect(f.im.messages.get(help.message_id)!.history).toHaveLength(1);

    f.addTask({ id: '7360595374803812356', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 500, advance: 1000 });
    const ok = toast(await f.gateway.push(f.submitForm(help.message_id, { task_id: ' 7360595374803812356 ', kind: 'drive', notify: true })));
    expect(ok).toEqual({ type: 'success', content: 'Looking up task 7360595374803812356; its card follows in this chat' });
    const card = await until('the live card', () =>
      [...f.im.messages.values()].find((m) => m.reply_to === help.message_id && JSON.stringify(m.card).includes('7360595374803812356')),
    );
    // Exactly what `status 7360595374803812356 drive notify` gives: a live card with one person waiting.
    expect(JSON.stringify(card.card)).toContain('1 waiting to be notified');
    // A repeated delivery of the same submission posts nothing more.
    const again = f.submitForm(help.message_id, { task_id: '7360595374803812356', kind: 'drive', notify: true }, { eventId: 'ev_same' });
    await f.gateway.push(again);
    await f.gateway.push(again);
    await until('the second card', () => [...f.im.messages.values()].filter((m) => m.reply_to === help.message_id).length === 2);
    await new Promise((r) => setTimeout(r, 300));
    expect([...f.im.messages.values()].filter((m) => m.reply_to === help.message_id)).toHaveLength(2);
  });

  it('the menu over the long connection: Track a task sends the form to the clicker, My tasks lists what they asked for', async () => {
    const f = await start();
    f.addTask({ id: '7360595374803812357', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 500, advance: 1000 });
    const asked = f.say('oc_team', 'status 7360595374803812357');
    await f.gateway.push(asked.event);
    await until('the card', () => [...f.im.messages.values()].find((m) => m.reply_to === asked.messageId));

    await f.gateway.push(f.menu('track'));
    const form = await until('the form in the 1:1 chat', () => f.im.inChat(p2pChatOf(USER)).find((m) => JSON.stringify(m.card).includes('"tag":"form"')));
    expect(f.calls('/open-apis/im/v1/messages').at(-1)!.query.get('receive_id_type')).toBe('open_id');
    expect(form.reply_to).toBeUndefined();

    await f.gateway.push(f.menu('my_tasks'));
    const mine = await until('My tasks', () => f.im.inChat(p2pChatOf(USER)).find((m) => JSON.stringify(m.card).includes('Tasks you asked for')));
    expect(JSON.stringify(mine.card)).toContain('7360595374803812357');
    // Someone else has asked for nothing; an unknown item is answered with help.
    await f.gateway.push(f.menu('my_tasks', { user: 'ou_other' }));
    await until('nothing yet', () => f.im.inChat(p2pChatOf('ou_other')).find((m) => JSON.stringify(m.card).includes('You have not tracked any task')));
    await f.gateway.push(f.menu('no_such_item', { user: 'ou_other' }));
    await until('help', () => f.im.inChat(p2pChatOf('ou_other')).find((m) => JSON.stringify(m.card).includes('"tag":"form"')));
  });

  it('the menu over the webhook too (signed delivery)', async () => {
    const f = (t.feishu = new FakeFeishu());
    await f.listen();
    ({ bot: t.bot } = await startTestBot(webhookEnv(f)));
    const body = JSON.stringify(f.menu('track'));
    const r = await fetch(`${t.bot!.url}/feishu/webhook/event`, { method: 'POST', body, headers: signed(body) });
    expect(r.status).toBe(200);
    await until('the form', () => f.im.inChat(p2pChatOf(USER)).find((m) => JSON.stringify(m.card).includes('"tag":"form"')));
  });
});

import { TOPIC_CARD, TOPIC_ROBOT } from 'dingtalk-stream';
import { describe, expect, it } from 'vitest';
import type { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import { runDoctor } from '../../src/doctor/doctor.js';
import { loadConfig } from '../../src/config.js';
import { platformsEach, until, withDingtalk, withFeishu } from '../helpers/bot.js';
import { feishuEnv } from '../helpers/env.js';

const TOKEN = 'stop-rule-test-token';
const toast = (ack: { data?: unknown }) => (ack.data as { toast: { content: string } }).toast.content;
const isStopped = (card: unknown) => JSON.stringify(card).includes('Automatic updates stopped');

/** Who may stop a card, over the real transports: the asker, admins, the group's owner and managers; a chat's rule; a script's cards. */
describe('who may stop a card, end to end', () => {
  const t = platformsEach({ neighbours: true });

  const feishuBot = () => withFeishu(t, { ADMIN_USER_IDS: 'ou_admin', API_TOKEN: TOKEN });

  /** `user` asks for a live card of a new task in `chat`; resolves with the card's message. */
  async function ask(f: FakeFeishu, chat: string, id: string, user = 'ou_alice') {
    f.addTask({ id, kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 500, advance: 1000 });
    const { messageId, event } = f.say(chat, `status ${id}`, { user });
    await f.gateway.push(event);
    return until('the card', () => [...f.im.messages.values()].find((m) => m.reply_to === messageId));
  }

  it('Feishu: a bystander is told who may; the group manager, an admin and the asker may; `stop` by a bystander stops nothing', async () => {
    const f = await feishuBot();
    f.chatRoles.set('oc_g', { owner: 'ou_owner', managers: ['ou_mgr'] });
    const a = await ask(f, 'oc_g', '1001');
    const refused = await f.gateway.push(f.click(a.message_id, 'stop', { user: 'ou_bob' }));
    expect(toast(refused)).toBe('Only the person who asked for this card, the group owner or managers, and taskbot admins may stop it');
    expect(isStopped(f.im.messages.get(a.message_id)!.card)).toBe(false);
    // Refresh stays open to all.
    expect(toast(await f.gateway.push(f.click(a.message_id, 'refresh', { user: 'ou_bob' })))).not.toContain('Only');
    const byManager = await f.gateway.push(f.click(a.message_id, 'stop', { user: 'ou_mgr' }));
    expect(toast(byManager)).toBe('Stopped updating');

    for (const user of ['ou_owner', 'ou_admin', 'ou_alice']) {
      const c = await ask(f, 'oc_g', `20${user.length}${user.charCodeAt(3)}`);
      expect(toast(await f.gateway.push(f.click(c.message_id, 'stop', { user })))).toBe('Stopped updating');
    }

    // `stop <id>` typed by a bystander: the card stays, and the answer says why.
    const b = await ask(f, 'oc_g', '3001');
    const typed = f.say('oc_g', 'stop 3001', { user: 'ou_bob' });
    await f.gateway.push(typed.event);
    const answer = await until('the answer', () => [...f.im.messages.values()].find((m) => m.reply_to === typed.messageId));
    expect(JSON.stringify(answer.card)).toContain('1 card(s) were not stopped');
    expect(isStopped(f.im.messages.get(b.message_id)!.card)).toBe(false);
    expect(f.calls(/\/im\/v1\/chats\/oc_g$/)).toHaveLength(1); // the group's roles were read once, then kept
  });

  it('Feishu: an admin opens the chat with `stop anyone`; `settings` shows the rule; a bystander may not change it', async () => {
    const f = await feishuBot();
    const a = await ask(f, 'oc_open', '4001');
    const say = async (text: string, user: string) => {
      const m = f.say('oc_open', text, { user });
      await f.gateway.push(m.event);
      return JSON.stringify((await until(text, () => [...f.im.messages.values()].find((x) => x.reply_to === m.messageId))).card);
    };
    expect(await say('stop anyone', 'ou_bob')).toContain('Only taskbot admins (ADMIN_USER_IDS) or the group owner and managers may change who can stop cards');
    expect(await say('settings', 'ou_bob')).toContain('the person who asked, taskbot admins, the group owner and managers');
    expect(await say('stop anyone', 'ou_admin')).toContain('Anyone in this chat may now stop task cards');
    expect(await say('settings', 'ou_bob')).toContain('anyone');
    expect(toast(await f.gateway.push(f.click(a.message_id, 'stop', { user: 'ou_bob' })))).toBe('Stopped updating');
  });

  it("Feishu: a script's card is the admins' and the scripts'; a person's card is not a script's to stop", async () => {
    const f = await feishuBot();
    f.chatRoles.set('oc_s', { owner: 'ou_owner', managers: [] });
    f.addTask({ id: '5001', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 500, advance: 1000 });
    const api = (method: string, path = '', body?: unknown) =>
      fetch(`${t.bot!.url}/api/v1/watches${path}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    const r = await api('POST', '', { platform: 'feishu', app: 'feishu', chatId: 'oc_s', taskId: '5001' });
    expect(r.status).toBe(201);
    const [card] = f.im.inChat('oc_s');
    for (const user of ['ou_alice', 'ou_owner'])
      expect(toast(await f.gateway.push(f.click(card!.message_id, 'stop', { user })))).toContain('A script posted this card: only taskbot admins');
    expect(toast(await f.gateway.push(f.click(card!.message_id, 'stop', { user: 'ou_admin' })))).toBe('Stopped updating');
    // The API's DELETE stops a script's card, not one a person asked for.
    const person = await ask(f, 'oc_s', '5002');
    const refused = await api('DELETE', `/${encodeURIComponent(`feishu:${person.message_id}`)}`);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ error: { code: 'PERMISSION_DENIED', message: expect.stringContaining('Only the person who asked for this card') } });
    expect(isStopped(f.im.messages.get(person.message_id)!.card)).toBe(false);
    const scripted = await api('POST', '', { platform: 'feishu', app: 'feishu', chatId: 'oc_s', taskId: '5001' });
    const { cardKey } = (await scripted.json()) as { cardKey: string };
    expect((await api('DELETE', `/${encodeURIComponent(cardKey)}`)).status).toBe(200);
  });

  it('Feishu: without the chat scope the owner is not known: the asker and admins decide, and doctor says so', async () => {
    const f = await feishuBot();
    f.denyScope('/open-apis/im/v1/chats/:chat_id');
    f.chatRoles.set('oc_n', { owner: 'ou_owner', managers: [] });
    const a = await ask(f, 'oc_n', '6001');
    expect(toast(await f.gateway.push(f.click(a.message_id, 'stop', { user: 'ou_owner' })))).toContain('Only the person who asked');
    expect(t.sink!.text).toContain("could not read the group's owner and managers");
    expect(toast(await f.gateway.push(f.click(a.message_id, 'stop', { user: 'ou_alice' })))).toBe('Stopped updating');
    // A refusal for good is kept: the second press did not ask again.
    expect(f.calls(/\/im\/v1\/chats\/oc_n$/)).toHaveLength(1);

    const checks = await runDoctor(loadConfig({ ...feishuEnv(f), DATABASE_URL: 'sqlite::memory:' }));
    const c = checks.find((x) => x.name.startsWith('scope: group owner'))!;
    expect(c.ok).toBe(false);
    expect(c.fix).toContain('im:chat:readonly');
    expect(c.fix).toContain('until then only the person who asked for a card and ADMIN_USER_IDS may stop it');
    f.restoreScope('/open-apis/im/v1/chats/:chat_id');
    const again = await runDoctor(loadConfig({ ...feishuEnv(f), DATABASE_URL: 'sqlite::memory:' }));
    expect(again.find((x) => x.name.startsWith('scope: group owner'))!.ok).toBe(true);
  });

  it('DingTalk: the asker (staffId) may, a bystander is told who may, an admin may', async () => {
    const d = await withDingtalk(t, { ADMIN_USER_IDS: 'staff900' });
    for (const id of ['copy-1', 'copy-2']) d.addTask({ id, kind: 'doc', total: 10, outcome: 'partial', queuedSteps: 0, runningSteps: 500, advance: 1000 });
    await d.stream.push(TOPIC_ROBOT, d.robotMessage('cidG==', 'status copy-1', { staffId: 'staff001' }).data);
    await d.stream.push(TOPIC_ROBOT, d.robotMessage('cidG==', 'status copy-2', { staffId: 'staff001' }).data);
    const [c1, c2] = await until('two cards', () => (d.im.cards.size === 2 ? [...d.im.cards.values()] : undefined));
    const press = async (card: { outTrackId: string }, user: string) => {
      const ack = await d.stream.push(TOPIC_CARD, d.cardClick(card.outTrackId, 'stop', user));
      return JSON.stringify(ack.data);
    };
    expect(await press(c1!, 'staff002')).toContain('Only the person who asked for this card');
    expect(await press(c1!, 'staff001')).toContain('Automatic updates stopped');
    expect(await press(c2!, 'staff900')).toContain('Automatic updates stopped');
  });
});

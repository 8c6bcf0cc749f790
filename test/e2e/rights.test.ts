import { describe, expect, it } from 'vitest';
import type { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import { p2pChatOf, type FakeMessage } from '../../src/sandbox/fake-feishu-im.js';
import { platformsEach, until, withFeishu, type UnderTest } from '../helpers/bot.js';

const toast = (ack: { data?: unknown }) => (ack.data as { toast: { type: string; content: string } }).toast;
const text = (m: FakeMessage | undefined) => JSON.stringify(m?.card ?? m?.text);
const isStopped = (m: FakeMessage) => text(m).includes('Automatic updates stopped');
const OWNER = 'ou_owner';

/** Who may do what, as people in a Feishu group meet it: over the real SDK and long connection. */
describe('who may do what, end to end (Feishu)', () => {
  const t = platformsEach({ neighbours: true });

  /** `user` says `words` in `chat`; resolves with the answer. */
  async function say(f: FakeFeishu, chat: string, words: string, user = 'ou_alice', o: { p2p?: boolean } = {}) {
    const m = f.say(chat, words, { user, ...o });
    await f.gateway.push(m.event);
    return until(words, () => [...f.im.messages.values()].find((x) => x.reply_to === m.messageId));
  }
  const slowTask = (f: FakeFeishu, id: string) =>
    f.addTask({ id, kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 500, advance: 400 });

  it("without ADMIN_USER_IDS a member may change the chat's settings but not who may stop cards; the group owner may; settings says so", async () => {
    const f = await withFeishu(t);
    f.chatRoles.set('oc_r', { owner: OWNER, managers: ['ou_mgr'] });
    slowTask(f, '9001');
    const card = await say(f, 'oc_r', 'status 9001', 'ou_alice');
    expect(text(await say(f, 'oc_r', 'stop anyone', 'ou_bob'))).toContain(
      'Only taskbot admins (ADMIN_USER_IDS) or the group owner and managers may change who can stop cards',
    );
    // Still the asker's: the bystander's Stop is refused.
    expect(toast(await f.gateway.push(f.click(card.message_id, 'stop', { user: 'ou_bob' }))).content).toContain('Only the person who asked');
    expect(text(await say(f, 'oc_r', 'lang en', 'ou_bob'))).toContain('This chat now uses English');
    const bob = text(await say(f, 'oc_r', 'settings', 'ou_bob'));
    expect(bob).toContain("Change this chat's settings (digest, pin, notify, language) ✓ · Change who may stop cards ✗ · stop other people's cards ✗");
    expect(bob).toContain('anyone in this chat (ADMIN_USER_IDS is not set)');
    expect(text(await say(f, 'oc_r', 'settings', 'ou_mgr'))).toContain("Change who may stop cards ✓ · stop other people's cards ✓");
    expect(text(await say(f, 'oc_r', 'stop anyone', 'ou_mgr'))).toContain('Anyone in this chat may now stop task cards');
    expect(toast(await f.gateway.push(f.click(card.message_id, 'stop', { user: 'ou_bob' }))).content).toBe('Stopped updating');
  });

  it("a bystander's Refresh on a stopped card shows its state once and leaves it stopped (and unpinned); the asker's resumes it", async () => {
    const f = await withFeishu(t, { ADMIN_USER_IDS: 'ou_admin' });
    await say(f, 'oc_s', 'pin on', 'ou_admin');
    slowTask(f, '9101');
    const card = await say(f, 'oc_s', 'status 9101', 'ou_alice');
    await until('pinned', () => f.im.pinned.has(card.message_id));
    expect(toast(await f.gateway.push(f.click(card.message_id, 'stop', { user: 'ou_alice' }))).content).toBe('Stopped updating');
    await until('unpinned', () => !f.im.pinned.has(card.message_id));

    await new Promise((r) => setTimeout(r, 900)); // the task moves on meanwhile
    const peek = await f.gateway.push(f.click(card.message_id, 'refresh', { user: 'ou_bob' }));
    expect(toast(peek).content).toContain('Showing the current state; the card stays stopped');
    const shown = JSON.stringify((peek.data as { card: { data: unknown } }).card.data);
    expect(shown).toContain('Automatic updates stopped');
    expect(shown).not.toContain('"action":"stop"');
    // No live updates follow, and nothing is pinned again.
    const seen = card.history.length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(card.history.length).toBe(seen);
    const status = async () => (await t.bot!.store.cards.get(`feishu:${card.message_id}`))!.status;
    expect(await status()).toBe('stopped');
    expect(f.im.pinLog.filter((p) => p.message === card.message_id).map((p) => p.op)).toEqual(['pin', 'unpin']);

    // The asker (who may stop it) resumes it.
    expect(toast(await f.gateway.push(f.click(card.message_id, 'refresh', { user: 'ou_alice' }))).content).toBe('Refreshed');
    await until('live again and pinned', async () => (await status()) === 'active' && f.im.pinned.has(card.message_id), 8000);
  });

  it("`mine` in a group lists that group's tasks only; in the person's 1:1 chat, all of them", async () => {
    const f = await withFeishu(t);
    for (const [chat, id] of [
      ['oc_a', '9201'],
      ['oc_b', '9202'],
    ] as const) {
      slowTask(f, id);
      await say(f, chat, `status ${id}`, 'ou_alice');
    }
    slowTask(f, '9203');
    await say(f, p2pChatOf('ou_alice'), 'status 9203', 'ou_alice', { p2p: true });
    const inGroup = text(await say(f, 'oc_a', 'mine', 'ou_alice'));
    expect(inGroup).toContain('9201');
    expect(inGroup).not.toContain('9202');
    expect(inGroup).not.toContain('9203');
    expect(inGroup).toContain('send mine to me in a 1:1 chat');
    const alone = text(await say(f, p2pChatOf('ou_alice'), 'mine', 'ou_alice', { p2p: true }));
    for (const id of ['9201', '9202', '9203']) expect(alone).toContain(id);
  });

  it("a press acts in its own card's chat only; a forwarded copy (another message) is not a card taskbot knows", async () => {
    const f = await withFeishu(t);
    slowTask(f, '9301');
    const card = await say(f, 'oc_home', 'status 9301', 'ou_alice');
    const elsewhere = await f.gateway.push(f.click(card.message_id, 'stop', { user: 'ou_alice', chatId: 'oc_elsewhere' }));
    expect(toast(elsewhere)).toEqual({ type: 'error', content: 'This card does not belong to this chat' });
    expect(isStopped(card)).toBe(false);
    const forwarded = await f.gateway.push(f.click('om_forwarded_copy', 'stop', { user: 'ou_alice', chatId: 'oc_elsewhere' }));
    expect(toast(forwarded).content).toBe('This card is no longer tracked: send the status command again');
    expect(isStopped(card)).toBe(false);
  });

  it('list, stop <id> and the digest see a running task however many ended cards came after it', async () => {
    const f = await withFeishu(t);
    slowTask(f, '9601');
    const card = await say(f, 'oc_busy', 'status 9601', 'ou_alice');
    // A month of other tasks in the chat, all ended since.
    const { store } = t.bot!;
    const at = Date.now();
    for (let i = 0; i < 300; i++) {
      const key = `feishu:drive:8${String(i).padStart(5, '0')}`;
      const snapshot = JSON.stringify({
        ref: { app: 'feishu', platform: 'feishu', kind: 'drive', id: key.split(':')[2] },
        state: 'succeeded',
        label: 'move',
        fetchedAt: new Date(at).toISOString(),
      });
      await store.cards.add(
        {
          card_key: `feishu:om_old${i}`,
          app: 'feishu',
          platform: 'feishu',
          handle: `om_old${i}`,
          chat_id: 'oc_busy',
          task_key: key,
          locale: 'en',
          status: 'done',
          created_at: at + 1 + i,
        },
        {
          task_key: key,
          app: 'feishu',
          platform: 'feishu',
          kind: 'drive',
          task_id: key.split(':')[2]!,
          operator: null,
          snapshot,
          snapshot_hash: 'h',
          next_due_at: at,
          backoff_ms: 2000,
          created_at: at,
          last_changed_at: at,
        },
        true,
      );
    }
    const list = text(await say(f, 'oc_busy', 'list', 'ou_bob'));
    expect(list).toContain('9601 · Running');
    expect(list).toContain('281 ended task(s) not shown');
    const digest = text(await say(f, 'oc_busy', 'digest now', 'ou_bob'));
    expect(digest).toContain('9601');
    expect(text(await say(f, 'oc_busy', 'stop 9601', 'ou_alice'))).toContain('Stopped updating 1 task card(s)');
    expect((await store.cards.get(`feishu:${card.message_id}`))!.status).toBe('stopped');
  });

  it("a bystander's Refresh racing the asker's Stop never undoes it (the restart is a conditional write, not a decision read earlier)", async () => {
    const f = await withFeishu(t);
    // Pairs of asker and bystander, each within the press limits (8 a person in 10 s).
    const pairs = ['a', 'b', 'c'].map((p) => ({ asker: `ou_asker_${p}`, bystander: `ou_bystander_${p}` }));
    const cards: { card: FakeMessage; asker: string; bystander: string }[] = [];
    for (const [i, pair] of pairs.flatMap((p) => Array.from({ length: 6 }, () => p)).entries()) {
      slowTask(f, `97${String(i).padStart(2, '0')}`);
      cards.push({ card: await say(f, `oc_race${i % 3}`, `status 97${String(i).padStart(2, '0')}`, pair.asker), ...pair });
    }
    const acks = await Promise.all(
      cards.map(({ card, asker, bystander }) =>
        Promise.all([
          f.gateway.push(f.click(card.message_id, 'stop', { user: asker })),
          f.gateway.push(f.click(card.message_id, 'refresh', { user: bystander })),
        ]),
      ),
    );
    for (const [stop] of acks) expect(toast(stop).content).toBe('Stopped updating');
    for (const { card } of cards) expect((await t.bot!.store.cards.get(`feishu:${card.message_id}`))!.status).toBe('stopped');
  });

  it("a Stop is answered within Feishu's deadline when the group's roles hang: the asker and admins decide meanwhile", async () => {
    const f = await withFeishu(t);
    slowTask(f, '9801');
    const card = await say(f, 'oc_slowroles', 'status 9801', 'ou_alice');
    f.inject({ path: /\/im\/v1\/chats\//, kind: 'hang', times: 50 });
    const ack = await f.gateway.push(f.click(card.message_id, 'stop', { user: 'ou_bob' }));
    expect(ack.ms).toBeLessThan(3000);
    expect(toast(ack).content).toContain('Only the person who asked');
    expect(t.sink!.text).toContain("could not read the group's owner and managers");
  });

  it('the form reads its task once, and `status` of a task read a moment ago reads it no more', async () => {
    const f = await withFeishu(t);
    slowTask(f, '9901');
    const { messageId, event } = f.say('oc_reads', 'help');
    await f.gateway.push(event);
    const help = await until('help', () => [...f.im.messages.values()].find((m) => m.reply_to === messageId));
    const before = f.calls(/task_check/).length;
    await f.gateway.push(f.submitForm(help.message_id, { task_id: '9901', kind: 'drive' }));
    await until('the card', () => [...f.im.messages.values()].find((m) => m.reply_to === help.message_id));
    expect(f.calls(/task_check/).length - before).toBe(1);
    // Ten people asking within a second or so: each read is answered by the one before it.
    const again = f.calls(/task_check/).length;
    await Promise.all(Array.from({ length: 10 }, (_, i) => say(f, 'oc_reads', 'status 9901', `ou_p${i}`)));
    expect(f.calls(/task_check/).length - again).toBeLessThanOrEqual(3);
  });

  it('`pin on` without the pin scope: one task shown by several cards is told once and pinned once', async () => {
    const f = await withFeishu(t, { ADMIN_USER_IDS: 'ou_admin' });
    f.denyScope('/open-apis/im/v1/pins');
    await say(f, 'oc_pins', 'pin on', 'ou_admin');
    slowTask(f, '9501');
    for (const user of ['ou_a', 'ou_b', 'ou_c', 'ou_d']) await say(f, 'oc_pins', 'status 9501', user);
    await until('told', () => f.im.inChat('oc_pins').find((m) => text(m).includes('cannot be pinned in this chat')));
    await new Promise((r) => setTimeout(r, 1500)); // several rounds
    expect(f.im.inChat('oc_pins').filter((m) => text(m).includes('cannot be pinned'))).toHaveLength(1);
    expect(f.calls('/open-apis/im/v1/pins')).toHaveLength(1);
  });
});

/** The Track a task form's answer within the callback deadline. */
describe('the Feishu form looks the task up before it answers', () => {
  const t: UnderTest = platformsEach();

  async function helpCard(f: FakeFeishu, chat: string): Promise<FakeMessage> {
    const { messageId, event } = f.say(chat, 'help');
    await f.gateway.push(event);
    return until('the help card', () => [...f.im.messages.values()].find((m) => m.reply_to === messageId));
  }

  it('an unknown task or a missing permission is told in the toast, the form kept filled and nothing posted', async () => {
    const f = await withFeishu(t);
    const help = await helpCard(f, 'oc_form');
    const before = f.im.messages.size;
    const unknown = toast(await f.gateway.push(f.submitForm(help.message_id, { task_id: '7360595374803812399', kind: 'detect' })));
    expect(unknown).toEqual({ type: 'error', content: expect.stringMatching(/^No such task: check the task id.*task_check answered 1061003/) });
    f.addTask({ id: 'c0ffee00c0ffee00c0ffee00c0ffee01', kind: 'contact', total: 4, outcome: 'succeeded', queuedSteps: 0, runningSteps: 50 });
    f.denyScope('/open-apis/contact/v2/task/get');
    const denied = toast(await f.gateway.push(f.submitForm(help.message_id, { task_id: 'c0ffee00c0ffee00c0ffee00c0ffee01', kind: 'detect' })));
    expect(denied.type).toBe('error');
    expect(denied.content).toContain('contact:contact');
    await new Promise((r) => setTimeout(r, 500));
    expect(f.im.messages.size).toBe(before);
    expect(f.im.messages.get(help.message_id)!.history).toHaveLength(1);
  });

  it('a lookup still running at the deadline says the card follows, and its error then replies to the form card', async () => {
    const f = await withFeishu(t, { UPSTREAM_TIMEOUT_MS: '1500' });
    const help = await helpCard(f, 'oc_slow');
    f.inject({ path: /task_check/, kind: 'hang', times: 2 });
    const ack = await f.gateway.push(f.submitForm(help.message_id, { task_id: '7360595374803812398', kind: 'drive' }));
    expect(ack.ms).toBeLessThan(3000);
    expect(toast(ack)).toEqual({ type: 'success', content: 'Looking up task 7360595374803812398; its card follows in this chat' });
    const later = await until('the answer under the form', () => [...f.im.messages.values()].find((m) => m.reply_to === help.message_id), 15_000);
    expect(text(later)).toContain('7360595374803812398');
  }, 20_000);
});

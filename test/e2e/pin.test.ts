import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOPIC_CARD, TOPIC_ROBOT } from 'dingtalk-stream';
import { describe, expect, it } from 'vitest';
import type { FakeDingtalk } from '../../src/sandbox/fake-dingtalk.js';
import type { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import { runDoctor } from '../../src/doctor/doctor.js';
import { loadConfig } from '../../src/config.js';
import { platformsEach, startTestBot, until, withDingtalk, withFeishu } from '../helpers/bot.js';
import { feishuEnv } from '../helpers/env.js';

const ADMIN = 'ou_admin';

/** Pinned while it runs (Feishu im/v1/pins), over the real SDK: the card's pin follows its life, across a restart, and a refusal is told once. */
describe('pin live cards while their task runs', () => {
  const t = platformsEach({ neighbours: true });

  const freshDb = () => ({ DATABASE_URL: `sqlite:${join(mkdtempSync(join(tmpdir(), 'pin-')), 'bot.db')}` });
  const say = async (f: FakeFeishu, chat: string, text: string, user = ADMIN) => {
    const m = f.say(chat, text, { user });
    await f.gateway.push(m.event);
    return until(text, () => [...f.im.messages.values()].find((x) => x.reply_to === m.messageId));
  };

  it('Feishu: pinned from the first round to the end, unpinned at the end, when stopped and when pin is turned off; admins only', async () => {
    const f = await withFeishu(t, { ADMIN_USER_IDS: ADMIN });
    expect(JSON.stringify((await say(f, 'oc_p', 'pin on', 'ou_bob')).card)).toContain('Only admins');
    expect(JSON.stringify((await say(f, 'oc_p', 'pin on')).card)).toContain('pinned while their task runs');

    f.addTask({ id: '8001', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 3, advance: 1000 });
    const ends = await say(f, 'oc_p', 'status 8001');
    await until('pinned', () => f.im.pinned.has(ends.message_id));
    await until(
      'unpinned at the end',
      () => JSON.stringify(f.im.messages.get(ends.message_id)!.card).includes('Succeeded') && !f.im.pinned.has(ends.message_id),
      10_000,
    );

    f.addTask({ id: '8002', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 500, advance: 1000 });
    const stopped = await say(f, 'oc_p', 'status 8002');
    await until('pinned', () => f.im.pinned.has(stopped.message_id));
    await f.gateway.push(f.click(stopped.message_id, 'stop', { user: ADMIN }));
    await until('unpinned when stopped', () => !f.im.pinned.has(stopped.message_id));

    f.addTask({ id: '8003', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 500, advance: 1000 });
    const off = await say(f, 'oc_p', 'status 8003');
    await until('pinned', () => f.im.pinned.has(off.message_id));
    expect(JSON.stringify((await say(f, 'oc_p', 'settings')).card)).toContain('Pin live cards');
    await say(f, 'oc_p', 'pin off');
    await until('unpinned when pin is off', () => !f.im.pinned.has(off.message_id));
    // Each card pinned once and unpinned once: no churn.
    for (const id of [ends.message_id, stopped.message_id, off.message_id])
      expect(f.im.pinLog.filter((p) => p.message === id).map((p) => p.op)).toEqual(['pin', 'unpin']);
  });

  it('Feishu: a card that ends while taskbot is down is unpinned by the next start (the pin is in the store)', async () => {
    const db = freshDb();
    const f = await withFeishu(t, { ADMIN_USER_IDS: ADMIN, ...db });
    await say(f, 'oc_r', 'pin on');
    f.addTask({ id: '8101', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 4, advance: 1000 });
    const card = await say(f, 'oc_r', 'status 8101');
    await until('pinned', () => f.im.pinned.has(card.message_id));
    await t.bot!.stop();
    delete t.bot;
    await new Promise((r) => setTimeout(r, 5000)); // the task ends meanwhile
    expect(f.im.pinned.has(card.message_id)).toBe(true);
    ({ bot: t.bot } = await startTestBot({ ...feishuEnv(f), ADMIN_USER_IDS: ADMIN, ...db }));
    await until('unpinned after the restart', () => !f.im.pinned.has(card.message_id), 10_000);
    await until('its final state', () => JSON.stringify(f.im.messages.get(card.message_id)!.card).includes('Succeeded'));
  }, 30_000);

  it('Feishu: without the scope, the chat is told once and nothing is tried again until an admin sends pin on', async () => {
    const f = await withFeishu(t, { ADMIN_USER_IDS: ADMIN });
    f.denyScope('/open-apis/im/v1/pins');
    await say(f, 'oc_s', 'pin on');
    for (const id of ['8201', '8202']) f.addTask({ id, kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 500, advance: 1000 });
    await say(f, 'oc_s', 'status 8201');
    const told = await until('told', () => f.im.inChat('oc_s').find((m) => JSON.stringify(m.card).includes('cannot be pinned in this chat')));
    expect(JSON.stringify(told.card)).toContain('im:message.pins:write_only');
    await say(f, 'oc_s', 'status 8202');
    await new Promise((r) => setTimeout(r, 1500)); // several rounds
    expect(f.calls('/open-apis/im/v1/pins')).toHaveLength(1);
    expect(f.im.inChat('oc_s').filter((m) => JSON.stringify(m.card).includes('cannot be pinned'))).toHaveLength(1);
    expect(JSON.stringify((await say(f, 'oc_s', 'pin')).card)).toContain('PERMISSION_DENIED');
    const doctor = async () =>
      (await runDoctor(loadConfig({ ...feishuEnv(f), DATABASE_URL: 'sqlite::memory:' }))).find((c) => c.name === 'scope: pin live cards (pin on)')!;
    expect(await doctor()).toMatchObject({ ok: false, fix: expect.stringContaining('im:message.pins:write_only') });
    // Granted, and turned on again: both live cards get pinned.
    f.restoreScope('/open-apis/im/v1/pins');
    expect((await doctor()).ok).toBe(true);
    await say(f, 'oc_s', 'pin on');
    await until('both pinned', () => f.im.pinned.size === 2);
  });

  const dtSay = async (d: FakeDingtalk, cid: string, text: string, o: { staffId?: string; p2p?: boolean } = {}) => {
    const before = d.im.messages.length;
    await d.stream.push(TOPIC_ROBOT, d.robotMessage(cid, text, { staffId: 'staff900', ...o }).data);
    return until(text, () => d.im.messages[before]);
  };
  const mainCard = (d: FakeDingtalk) => until('the card', () => [...d.im.cards.values()].find((c) => c.openSpaceId.startsWith('dtv1.card//IM_GROUP.')));

  it('DingTalk: the top box (吊顶) shows a live card from the first round, follows it, and is closed for everyone at the end and when stopped', async () => {
    const d = await withDingtalk(t, { ADMIN_USER_IDS: 'staff900', DINGTALK_TOPBOX_TEMPLATE_ID: 'tpl-top' });
    expect((await dtSay(d, 'cidP==', 'pin on', { staffId: 'staff001' })).text).toContain('Only admins');
    expect((await dtSay(d, 'cidP==', 'pin on')).text).toContain('pinned while their task runs');
    expect((await dtSay(d, 'cidP==', 'pin on', { p2p: true })).text).toContain('group chats only');

    d.addTask({ id: 'copy-81', kind: 'doc', total: 100, outcome: 'succeeded', queuedSteps: 0, runningSteps: 6, advance: 1000 });
    await d.stream.push(TOPIC_ROBOT, d.robotMessage('cidP==', 'status copy-81', { staffId: 'staff001' }).data);
    const card = await mainCard(d);
    const top = await until('the top box', () => d.im.openTopBoxes('cidP==')[0]);
    // A card instance of the top-box template in the group's ONE_BOX space, expiring after the watch would.
    expect(top).toMatchObject({ templateId: 'tpl-top', openSpaceId: 'dtv1.card//ONE_BOX.cidP==' });
    expect(top.topBox!.expiresAt).toBeGreaterThan(Date.now() + 23 * 3600_000);
    expect(Object.keys(top.params).sort()).toEqual(['color', 'progress', 'progressText', 'state', 'stateCode', 'title']);
    expect(top.params.title).toBe(card.params.title);
    // It follows the card's progress while the task runs, and is closed (not left behind) at the end.
    await until('closed at the end', () => card.params.stateCode === 'succeeded' && top.topBox!.closedAt !== undefined, 15_000);
    const shown = new Set(top.history.map((h) => h.params.progressText));
    expect(shown.size).toBeGreaterThan(1);
    expect([...shown].every((p) => card.history.some((h) => h.params.progressText === p))).toBe(true);
    expect(d.im.openTopBoxes('cidP==')).toEqual([]);

    d.addTask({ id: 'copy-82', kind: 'doc', total: 100, outcome: 'succeeded', queuedSteps: 0, runningSteps: 500, advance: 1000 });
    await d.stream.push(TOPIC_ROBOT, d.robotMessage('cidP==', 'status copy-82', { staffId: 'staff001' }).data);
    const second = await until('the second top box', () => d.im.openTopBoxes('cidP==')[0]);
    const stopped = [...d.im.cards.values()].find((c) => c.outTrackId === second.outTrackId.replace(/-top$/, ''))!;
    expect(JSON.stringify((await d.stream.push(TOPIC_CARD, d.cardClick(stopped.outTrackId, 'stop', 'staff001'))).data)).toContain('Automatic updates stopped');
    await until('closed when stopped', () => second.topBox!.closedAt !== undefined);
    // Each top box delivered once and closed once.
    expect(d.calls('/v1.0/im/topBoxes/close')).toHaveLength(2);
  }, 30_000);

  it('DingTalk: without a top-box template, pin on says what the admin must set; settings shows it off', async () => {
    const d = await withDingtalk(t, { ADMIN_USER_IDS: 'staff900' });
    expect((await dtSay(d, 'cidQ==', 'pin on')).text.replace(/\\/g, '')).toContain('DINGTALK_TOPBOX_TEMPLATE_ID');
    expect((await dtSay(d, 'cidQ==', 'pin')).text).toMatch(/Pin live cards: off/);
  });

  it('DingTalk: a top box the platform refuses (its template unknown there) is told once, nothing more is tried, and the cards go on', async () => {
    const d = await withDingtalk(t, { ADMIN_USER_IDS: 'staff900', DINGTALK_TOPBOX_TEMPLATE_ID: 'tpl-top' });
    await dtSay(d, 'cidR==', 'pin on');
    d.im.templates.add('tpl'); // the group card's template exists; the top box's does not
    for (const id of ['copy-91', 'copy-92']) d.addTask({ id, kind: 'doc', total: 100, outcome: 'succeeded', queuedSteps: 0, runningSteps: 500, advance: 1000 });
    await d.stream.push(TOPIC_ROBOT, d.robotMessage('cidR==', 'status copy-91', { staffId: 'staff001' }).data);
    const told = await until('told', () => d.im.messages.find((m) => m.text.includes('cannot be pinned in this chat')));
    expect(told.text.replace(/\\/g, '')).toContain('NOT_CONFIGURED');
    await d.stream.push(TOPIC_ROBOT, d.robotMessage('cidR==', 'status copy-92', { staffId: 'staff001' }).data);
    await until('both cards', () => [...d.im.cards.values()].filter((c) => c.openSpaceId.startsWith('dtv1.card//IM_GROUP.')).length === 2);
    await new Promise((r) => setTimeout(r, 1500)); // several rounds
    expect(d.im.messages.filter((m) => m.text.includes('cannot be pinned'))).toHaveLength(1);
    expect(d.im.openTopBoxes('cidR==')).toEqual([]);
  });
});

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOPIC_ROBOT } from 'dingtalk-stream';
import { describe, expect, it } from 'vitest';
import type { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import { runDoctor } from '../../src/app/doctor.js';
import { loadConfig } from '../../src/config.js';
import { platformsEach, startTestBot, until, withDingtalk, withFeishu } from '../helpers/bot.js';

const ADMIN = 'ou_admin';

/** Pinned while it runs (Feishu im/v1/pins), over the real SDK: the card's pin follows its life, across a restart, and a refusal is told once. */
describe('pin live cards while their task runs', () => {
  const t = platformsEach();

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
    await until('unpinned at the end', () => JSON.stringify(f.im.messages.get(ends.message_id)!.card).includes('Succeeded') && !f.im.pinned.has(ends.message_id), 10_000);

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
    for (const id of [ends.message_id, stopped.message_id, off.message_id]) expect(f.im.pinLog.filter((p) => p.message === id).map((p) => p.op)).toEqual(['pin', 'unpin']);
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
    ({ bot: t.bot } = await startTestBot({ FEISHU_APP_ID: f.appId, FEISHU_APP_SECRET: f.appSecret, FEISHU_DOMAIN: f.baseUrl, ADMIN_USER_IDS: ADMIN, ...db }));
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
    const doctor = async () => (await runDoctor(loadConfig({ FEISHU_APP_ID: f.appId, FEISHU_APP_SECRET: f.appSecret, FEISHU_DOMAIN: f.baseUrl, DATABASE_URL: 'sqlite::memory:' }))).find((c) => c.name === 'scope: pin live cards (pin on)')!;
    expect(await doctor()).toMatchObject({ ok: false, fix: expect.stringContaining('im:message.pins:write_only') });
    // Granted, and turned on again: both live cards get pinned.
    f.restoreScope('/open-apis/im/v1/pins');
    expect((await doctor()).ok).toBe(true);
    await say(f, 'oc_s', 'pin on');
    await until('both pinned', () => f.im.pinned.size === 2);
  });

  it('DingTalk: pin on says the platform cannot (no pins for robots here)', async () => {
    const d = await withDingtalk(t);
    await d.stream.push(TOPIC_ROBOT, d.robotMessage('cidP==', 'pin on').data);
    const answer = await until('the answer', () => [...d.im.cards.values()][0] ?? d.im.messages[0]);
    expect(JSON.stringify(answer)).toContain('does not let a bot pin messages');
  });
});

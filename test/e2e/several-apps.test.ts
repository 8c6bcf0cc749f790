import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bot } from '../../src/app/bot.js';
import { TOPIC_ROBOT } from '../../src/platforms/dingtalk/sdk.js';
import { FakeDingtalk } from '../../src/sandbox/fake-dingtalk.js';
import { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import { appsFileEnv } from '../helpers/apps.js';
import { type LogSink, startTestBot, until } from '../helpers/bot.js';

const toast = (ack: { data?: unknown }) => (ack.data as { toast: { content: string } }).toast.content;
const text = (card: unknown) => JSON.stringify(card);

/**
 * One taskbot, four apps (two Feishu — one of them "Lark" — and two DingTalk organisations), each
 * against its own fake, over the real SDKs. The apps share a chat id and task ids, as two apps of
 * one tenant would: every answer, card, list, right and digest stays in its own app (DESIGN §8).
 */
describe('several apps in one taskbot', () => {
  let hq: FakeFeishu;
  let intl: FakeFeishu;
  let sh: FakeDingtalk;
  let bj: FakeDingtalk;
  let bot: Bot;
  let sink: LogSink;

  beforeAll(async () => {
    hq = new FakeFeishu();
    intl = new FakeFeishu('cli_b1b2c3d4e5f60719', 'lark-secret');
    sh = new FakeDingtalk();
    bj = new FakeDingtalk('dingfakeclientbj', 'bj-secret');
    await Promise.all([hq.listen(), intl.listen(), sh.listen(), bj.listen()]);
    for (const d of [sh, bj]) d.users.set('staff001', 'union-001');
    ({ bot, sink } = await startTestBot(
      appsFileEnv([
        { id: 'hq', fake: hq, extra: { adminUserIds: ['ou_boss'] } },
        { id: 'intl', fake: intl },
        { id: 'sh', fake: sh },
        { id: 'bj', fake: bj },
      ]),
    ));
  });
  afterAll(async () => {
    if (process.env.DEBUG_SINK) for (const l of sink.lines) if (/"level":(40|50)/.test(l)) console.log(l.slice(0, 600));
    await bot?.stop();
    await Promise.all([hq, intl, sh, bj].map((f) => f?.close()));
  });

  async function ask(f: FakeFeishu, chat: string, words: string, user = 'ou_alice') {
    const { messageId, event } = f.say(chat, words, { user });
    await f.gateway.push(event);
    return until(`the answer in ${f.appId}`, () => [...f.im.messages.values()].find((m) => m.reply_to === messageId));
  }

  it('every app is connected, each reported on its own', async () => {
    const r = await fetch(`${bot.url}/readyz`);
    expect(r.status).toBe(200);
    const body = (await r.json()) as { ok: boolean; checks: Record<string, unknown> };
    expect(body.ok).toBe(true);
    expect(body.checks.apps).toEqual({
      hq: { ok: true, platform: 'feishu', state: 'connected' },
      intl: { ok: true, platform: 'feishu', state: 'connected' },
      sh: { ok: true, platform: 'dingtalk', state: 'connected' },
      bj: { ok: true, platform: 'dingtalk', state: 'connected' },
    });
    // No app is named for its platform here: no single-app keys.
    expect(body.checks).not.toHaveProperty('feishu');
  });

  it('the same task id in two Feishu apps is two tasks, each read and shown by its own app in its own chat', async () => {
    hq.addTask({ id: '4201', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 2 });
    intl.addTask({ id: '4201', kind: 'drive', total: 1, outcome: 'failed', queuedSteps: 0, runningSteps: 2 });
    const a = await ask(hq, 'oc_shared', 'status 4201');
    const b = await ask(intl, 'oc_shared', 'status 4201');
    await until('both final', () => text(a.card).includes('Succeeded') && text(b.card).includes('Failed'), 10_000);
    expect(text(a.card)).not.toContain('Failed');
    // Each fake saw only its own app's calls and messages.
    expect(hq.im.inChat('oc_shared').every((m) => m.reply_to !== undefined || !text(m.card).includes('Failed'))).toBe(true);
    expect(await bot.store.cards.get(`hq:${a.message_id}`)).toMatchObject({ app: 'hq', task_key: 'hq:drive:4201' });
    expect(await bot.store.cards.get(`intl:${b.message_id}`)).toMatchObject({ app: 'intl', task_key: 'intl:drive:4201' });
    // Two tenants' message ids may even coincide (these fakes count alike): each app's card is its own.
    if (a.message_id === b.message_id) expect(await bot.store.cards.get(`hq:${a.message_id}`)).not.toEqual(await bot.store.cards.get(`intl:${b.message_id}`));
  });

  it('`list` and `mine` see only their own app, though the chat id and the person id are the same', async () => {
    const listed = await ask(intl, 'oc_shared', 'list');
    const hqCards = (await bot.store.cards.overview({ app: 'hq', chatId: 'oc_shared', endedLimit: 50 })).cards;
    const intlCards = (await bot.store.cards.overview({ app: 'intl', chatId: 'oc_shared', endedLimit: 50 })).cards;
    expect(hqCards.every((c) => c.app === 'hq')).toBe(true);
    expect(intlCards.every((c) => c.app === 'intl')).toBe(true);
    expect(hqCards.length + intlCards.length).toBeGreaterThan(intlCards.length);
    expect(text(listed.card)).toContain('4201');
    expect(text(listed.card)).toContain('Failed');
    expect(text(listed.card)).not.toContain('Succeeded');
    const mine = await ask(intl, 'oc_shared', 'mine');
    expect(text(mine.card)).not.toContain('Succeeded');
  });

  it("an admin of one app is nobody in another: rights come from the app's own list", async () => {
    for (const f of [hq, intl]) f.addTask({ id: '4301', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 5000, advance: 1000 });
    const a = await ask(hq, 'oc_rights', 'status 4301');
    const b = await ask(intl, 'oc_rights', 'status 4301');
    const refused = await intl.gateway.push(intl.click(b.message_id, 'stop', { user: 'ou_boss' }));
    expect(toast(refused)).toContain('Only the person who asked for this card');
    expect(toast(await hq.gateway.push(hq.click(a.message_id, 'stop', { user: 'ou_boss' })))).toBe('Stopped updating');
    expect(await bot.store.cards.get(`intl:${b.message_id}`)).toMatchObject({ status: 'active' });
    expect(await bot.store.cards.get(`hq:${a.message_id}`)).toMatchObject({ status: 'stopped' });
  });

  it("a press naming another app's card is not taken for it (card keys are the app's own)", async () => {
    intl.addTask({ id: '4401', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 5000, advance: 1000 });
    const b = await ask(intl, 'oc_cross', 'status 4401');
    // hq's press on a message id only intl has: hq has no such card.
    const ack = await hq.gateway.push(hq.click(b.message_id, 'stop', { user: 'ou_boss', chatId: 'oc_cross' }));
    expect(toast(ack)).not.toBe('Stopped updating');
    expect(await bot.store.cards.get(`intl:${b.message_id}`)).toMatchObject({ status: 'active' });
  });

  it('two DingTalk organisations: the same chat id and task id, each card delivered by its own app', async () => {
    sh.addTask({ id: 'copy-9', kind: 'doc', total: 10, outcome: 'succeeded', queuedSteps: 0, runningSteps: 2 });
    bj.addTask({ id: 'copy-9', kind: 'doc', total: 10, outcome: 'failed', queuedSteps: 0, runningSteps: 2 });
    await sh.stream.push(TOPIC_ROBOT, sh.robotMessage('cidShared==', 'status copy-9').data);
    await bj.stream.push(TOPIC_ROBOT, bj.robotMessage('cidShared==', 'status copy-9').data);
    const shCard = await until('sh card', () => [...sh.im.cards.values()][0]);
    const bjCard = await until('bj card', () => [...bj.im.cards.values()][0]);
    await until('both final', () => shCard.params.stateCode === 'succeeded' && bjCard.params.stateCode === 'failed', 10_000);
    expect(sh.im.cards.size).toBe(1);
    expect(bj.im.cards.size).toBe(1);
  });

  it("a digest posts each app's own tasks into its own chat", async () => {
    const d = await ask(intl, 'oc_shared', 'digest now');
    expect(text(d.card)).toContain('4201');
    expect(text(d.card)).not.toContain('Succeeded (');
    expect(hq.im.inChat('oc_shared').some((m) => m.reply_to === d.message_id)).toBe(false);
  });

  it("Notify me in one app mentions the presser in that app's chat when its task ends, and only there", async () => {
    hq.addTask({ id: '4501', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 5000, advance: 1000 });
    intl.addTask({ id: '4501', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 3, advance: 1000 });
    const a = await ask(hq, 'oc_notify', 'status 4501');
    const b = await ask(intl, 'oc_notify', 'status 4501');
    const ack = await intl.gateway.push(intl.click(b.message_id, 'notify', { chatId: 'oc_notify', user: 'ou_ann' }));
    expect(toast(ack)).toContain('You will be mentioned here when the task ends');
    const mention = await until('the mention in intl', () => intl.im.inChat('oc_notify').find((m) => m.text?.includes('ou_ann')), 10_000);
    expect(mention.reply_to).toBe(b.message_id);
    // hq's card of the same task id is another task: still running, nobody waits on it, nothing mentioned there.
    expect(hq.im.inChat('oc_notify').filter((m) => m.text !== undefined)).toEqual([]);
    expect(await bot.store.cards.get(`hq:${a.message_id}`)).toMatchObject({ status: 'active' });
  });

  it('`settings` names the app, and `chatid` gives scripts the app to post through', async () => {
    expect(text((await ask(intl, 'oc_shared', 'settings')).card)).toContain('intl (feishu)');
    expect(text((await ask(hq, 'oc_shared', 'settings')).card)).toContain('hq (feishu)');
    expect(text((await ask(intl, 'oc_shared', 'chatid')).card)).toContain('\\"app\\":\\"intl\\"');
  });

  it('metrics and the log name the app', async () => {
    const m = await bot.metrics.text();
    for (const [app, platform] of [
      ['hq', 'feishu'],
      ['intl', 'feishu'],
      ['sh', 'dingtalk'],
      ['bj', 'dingtalk'],
    ]) {
      expect(m).toMatch(new RegExp(`^taskbot_events_total\\{app="${app}",platform="${platform}"`, 'm'));
    }
  });
});

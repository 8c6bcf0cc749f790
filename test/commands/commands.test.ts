import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import { FakeDingtalk } from '../../src/sandbox/fake-dingtalk.js';
import { FeishuApi } from '../../src/platforms/feishu/api-client.js';
import { DingtalkApi } from '../../src/platforms/dingtalk/api-client.js';
import { FeishuContactProvider } from '../../src/providers/feishu-contact.js';
import { FeishuDriveProvider } from '../../src/providers/feishu-drive.js';
import { DingtalkStorageProvider } from '../../src/providers/dingtalk-storage.js';
import { DingtalkDocProvider } from '../../src/providers/dingtalk-doc.js';
import { TaskRegistry } from '../../src/providers/registry.js';
import { reportSubmissions } from '../../src/providers/feishu-report.js';
import { WatchEngine } from '../../src/watch/engine.js';
import { DigestScheduler } from '../../src/digest/scheduler.js';
import { handleCommand } from '../../src/commands/router.js';
import { COMMANDS, parseCommand, parseStatusArgs, tokenize } from '../../src/commands/parse.js';
import type { CommandDeps, InboundCommand, Settings, AppSettings } from '../../src/commands/deps.js';
import type { CardModel } from '../../src/domain/card.js';
import type { Store } from '../../src/store/store.js';
import { RecordingMessenger } from '../helpers/recording-messenger.js';
import { freshStore } from '../helpers/stores.js';
import { chatPrefs } from '../../src/store/chat-settings.js';

const text = (c: CardModel) => JSON.stringify(c);

describe('command parsing', () => {
  it('recognises commands and their Chinese aliases, case-insensitively, with a leading slash', () => {
    expect(parseCommand('status 123')).toEqual({ command: 'status', args: ['123'] });
    expect(parseCommand('  查询  123 doc ')).toEqual({ command: 'status', args: ['123', 'doc'] });
    expect(parseCommand('/LIST')).toEqual({ command: 'list', args: [] });
    expect(parseCommand('摘要 daily 09:00')).toEqual({ command: 'digest', args: ['daily', '09:00'] });
    expect(parseCommand('')).toEqual({ command: 'empty' });
  });

  it('keeps quoted cron expressions together and suggests near misses', () => {
    expect(tokenize('digest cron "0 9 * * 1" Asia/Shanghai')).toEqual(['digest', 'cron', '0 9 * * 1', 'Asia/Shanghai']);
    expect(tokenize('digest cron “30 18 * * 1-5”')).toEqual(['digest', 'cron', '30 18 * * 1-5']);
    expect(parseCommand('stauts 1')).toEqual({ command: 'unknown', input: 'stauts', suggestion: 'status' });
    expect(parseCommand('lsit')).toMatchObject({ suggestion: 'list' });
    expect(parseCommand('launch rockets')).toEqual({ command: 'unknown', input: 'launch' });
    // Found by the property below: object-prototype names are not commands.
    expect(parseCommand('__proto__')).toMatchObject({ command: 'unknown' });
    expect(parseCommand('status 1 constructor')).toEqual({ command: 'status', args: ['1', 'constructor'] });
    expect(parseStatusArgs(['toString', '1']).kind).toBeUndefined();
  });

  it('takes the kind before or after the id', () => {
    expect(parseStatusArgs(['123', 'doc'])).toEqual({ id: '123', kind: 'doc', extra: [] });
    expect(parseStatusArgs(['doc', '123'])).toEqual({ id: '123', kind: 'doc', extra: [] });
    expect(parseStatusArgs(['文档', 'abc'])).toMatchObject({ id: 'abc', kind: 'doc' });
  });

  it('never throws, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 2000 }), (s) => {
        const p = parseCommand(s);
        expect([...COMMANDS, 'unknown', 'empty']).toContain(p.command);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('command handlers', () => {
  let feishu: FakeFeishu;
  let dingtalk: FakeDingtalk;
  let store: Store;
  let clock: ManualClock;
  let fm: RecordingMessenger;
  let dm: RecordingMessenger;
  let deps: CommandDeps;
  let settings: Settings;
  /** The settings of every app here (each test changes them). */
  let app: AppSettings;
  let n = 0;

  beforeEach(async () => {
    feishu = new FakeFeishu();
    dingtalk = new FakeDingtalk();
    await Promise.all([feishu.listen(), dingtalk.listen()]);
    const fapi = new FeishuApi({ appId: feishu.appId, appSecret: feishu.appSecret, domain: feishu.baseUrl, timeoutMs: 2000 });
    const dapi = new DingtalkApi({
      clientId: dingtalk.clientId,
      clientSecret: dingtalk.clientSecret,
      apiBase: dingtalk.baseUrl,
      oapiBase: dingtalk.baseUrl,
      timeoutMs: 2000,
    });
    const registry = new TaskRegistry({
      feishu: [new FeishuContactProvider(fapi), new FeishuDriveProvider(fapi)],
      dingtalk: [new DingtalkStorageProvider(dapi), new DingtalkDocProvider(dapi)],
    });
    ({ store } = await freshStore('sqlite'));
    clock = new ManualClock(Date.UTC(2026, 10, 21, 4, 0));
    fm = new RecordingMessenger('feishu');
    dm = new RecordingMessenger('dingtalk');
    const messengers = { feishu: fm, dingtalk: dm };
    const reports = {
      submissions: async (_app: string, w: { from: Date; to: Date; ruleId?: string }) => {
        const all = [];
        for await (const s of reportSubmissions(fapi, w)) all.push(s);
        return all;
      },
    };
    app = { locale: 'zh', timeZone: 'Asia/Shanghai', allowedChatIds: [], adminUserIds: [] };
    settings = { of: () => app };
    deps = {
      registry,
      watch: new WatchEngine({ store, tasks: registry, messengers, timeZone: 'Asia/Shanghai', clock }).cards,
      cards: store.cards,
      digests: new DigestScheduler({ store, messengers, clock, reports }),
      messengers,
      apps: [
        { id: 'feishu', platform: 'feishu' },
        { id: 'dingtalk', platform: 'dingtalk' },
      ],
      settings,
      chats: chatPrefs(store, () => clock.now()),
      clock,
      reports,
    };
  });
  afterEach(async () => {
    await store.close();
    await Promise.all([feishu.close(), dingtalk.close()]);
  });

  async function say(t: string, over: Partial<InboundCommand> = {}): Promise<CardModel> {
    const cmd: InboundCommand = {
      app: over.platform ?? 'feishu',
      platform: 'feishu',
      chatId: 'oc_1',
      chatType: 'group',
      userId: 'ou_1',
      text: t,
      reply: { messageId: `om_in_${++n}` },
      ...over,
    };
    const m = cmd.platform === 'feishu' ? fm : dm;
    const before = m.sent.length;
    await handleCommand(cmd, deps);
    expect(m.sent.length).toBe(before + 1);
    const last = m.sent.at(-1)!;
    expect(last.reply?.messageId).toBe(cmd.reply.messageId);
    return last.card;
  }

  it('status sends a live card with Refresh and Stop and starts watching it', async () => {
    feishu.addTask({ id: '7360595374803812356', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 3 });
    const card = await say('状态 7360595374803812356');
    expect(card).toMatchObject({ type: 'task', color: 'blue', title: '云空间文件夹任务 · 7360595374803812356' });
    expect(card.buttons?.map((b) => b.label)).toEqual(['刷新', '停止更新', '完成时提醒我']);
    expect(await store.cards.countActive()).toBe(1);
  });

  it('status of a finished task gives a final card and watches nothing', async () => {
    feishu.addTask({ id: '42', kind: 'drive', total: 1, outcome: 'failed', queuedSteps: 0, runningSteps: 0 });
    const card = await say('status 42');
    expect(card).toMatchObject({ color: 'red' });
    expect(card.buttons).toBeUndefined();
    expect(await store.cards.countActive()).toBe(0);
  });

  it('DingTalk status reads storage tasks as the sender, with the kind before the id', async () => {
    dingtalk.addTask({ id: 'mv-1', kind: 'storage', total: 4, outcome: 'succeeded', queuedSteps: 0, runningSteps: 2 });
    const card = await say('status storage mv-1', { platform: 'dingtalk', chatId: 'cid1', operator: async () => 'union-7' });
    expect(card.title).toBe('钉钉存储任务 · mv-1');
    expect(dingtalk.calls(/storage/)[0]!.query.get('unionId')).toBe('union-7');
  });

  it.each([
    ['status', /请提供任务 ID/],
    ['status hello', /INVALID_TASK_ID/],
    ['status 999999', /TASK_NOT_FOUND/],
    ['status 123 wiki', /没看懂“wiki”。用法：status <任务ID>/],
  ])('%s → a clear answer', async (input, expected) => {
    const card = await say(input);
    expect(text(card)).toMatch(expected);
    expect(await store.cards.countActive()).toBe(0);
  });

  it('names the scope when the app lacks it', async () => {
    feishu.denyScope('/open-apis/drive/v1/files/task_check');
    const card = await say('status 1');
    expect(card.type).toBe('error');
    expect(text(card)).toContain('drive:drive | drive:drive.metadata:readonly | drive:drive:readonly');
    expect(text(card)).toContain('应用缺少权限');
  });

  it('unknown commands get the help card, with "did you mean" for near misses; empty gets help', async () => {
    expect(text(await say('stauts 1'))).toContain('你是不是想用：status');
    expect(text(await say('foobar'))).toContain('没有“foobar”这个命令');
    expect((await say('')).type).toBe('help');
    app.locale = 'en';
    expect(text(await say('hepl'))).toContain('Did you mean: help?');
  });

  it("list shows the chat's tasks, running first; stop ends them", async () => {
    feishu.addTask({ id: '1', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 0 });
    feishu.addTask({ id: '2', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 9 });
    await say('status 1');
    await say('status 2');
    expect(text(await say('list', { chatId: 'oc_other' }))).toContain('本群还没有跟踪任何任务');
    const list = await say('list');
    const items = (list.blocks.find((b) => b.type === 'list') as { items: string[] }).items;
    expect(items[0]).toContain('2 · 进行中');
    expect(items[1]).toContain('1 · 已完成');
    expect(text(await say('stop 2'))).toContain('已停止更新 1 张任务卡片');
    expect(text(await say('stop 2'))).toContain('本群没有正在更新的任务 2');
    expect(await store.cards.countActive()).toBe(0);
  });

  it('digest: set, show, bad input, admin-only changes, off and now', async () => {
    expect(text(await say('digest daily 25:00'))).toContain('时间“25:00”无效');
    expect(text(await say('digest daily 09:00 Mars/Base'))).toContain('时区“Mars/Base”无效');
    expect(text(await say('digest cron "61 * * * *"'))).toContain('cron 表达式“61 * * * *”无效');
    expect(text(await say('digest cron "0,10,20-59 23 * * *"'))).toContain(
      'cron 表达式“0,10,20-59 23 * * *”无效：at most one digest every 5 minutes, but it would fire at 23:20 and again at 23:21',
    );
    expect(text(await say('digest sometimes'))).toContain('用法：digest daily');
    expect(text(await say('digest weekdays 18:30 America/New_York'))).toContain(
      '已设置本群摘要：weekdays 18:30（America/New_York），下次发送：2026-11-23 18:30',
    );
    expect(text(await say('digest'))).toContain('本群摘要：weekdays 18:30');
    app.adminUserIds = ['ou_admin'];
    expect(text(await say('digest off'))).toContain('只有管理员可以修改本群设置');
    expect(text(await say('digest now'))).toContain('任务摘要');
    expect(text(await say('digest off', { userId: 'ou_admin' }))).toContain('已关闭本群的定时摘要');
    expect(text(await say('digest'))).toContain('本群没有设置定时摘要');
  });

  it('reports summarises Feishu submissions per rule; DingTalk says it is Feishu-only', async () => {
    const t = Math.floor(clock.now() / 1000) - 600;
    for (const rule of ['日报', '日报', '周报']) {
      feishu.reports.push({
        task_id: rule + t,
        rule_id: 'r',
        rule_name: rule,
        from_user_id: 'u',
        from_user_name: 'u',
        department_name: '',
        department_ids: [],
        commit_time: t,
        to_user_ids: [],
        to_user_names: [],
        form_contents: [],
      });
    }
    const card = await say('汇报 today');
    expect(text(card)).toContain('日报：2 份');
    expect(text(card)).toContain('共 3 份汇报');
    expect(text(await say('reports yesterday'))).toContain('共 0 份汇报');
    expect(text(await say('reports a b c'))).toContain('用法：reports');
    expect(text(await say('reports', { platform: 'dingtalk', chatId: 'cid' }))).toContain('汇报功能仅支持飞书');
  });

  it("reports counts days in the chat's zone, also across a clock change (New York, spring forward)", async () => {
    app.timeZone = 'America/New_York';
    // 2026-03-09 15:00 EDT; the day before (2026-03-08) had 23 hours there.
    clock = new ManualClock(Date.UTC(2026, 2, 9, 19, 0));
    deps.clock = clock;
    const windows = () => feishu.calls(/report\/v1\/tasks?\/query/).map((r) => r.body as { commit_start_time: number; commit_end_time: number });
    await say('reports today');
    await say('reports yesterday');
    const [today, yesterday] = windows();
    expect(today!.commit_start_time).toBe(Date.UTC(2026, 2, 9, 4, 0) / 1000); // midnight EDT
    expect(yesterday!.commit_start_time).toBe(Date.UTC(2026, 2, 8, 5, 0) / 1000); // midnight EST
    expect(yesterday!.commit_end_time).toBe(Math.floor((Date.UTC(2026, 2, 9, 4, 0) - 1) / 1000));
  });

  it('stop takes the kind before or after the id, like status', async () => {
    feishu.addTask({ id: '3', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 9 });
    await say('status 3');
    expect(text(await say('stop contact 3'))).toContain('本群没有正在更新的任务 3');
    expect(text(await say('stop drive 3'))).toContain('已停止更新 1 张任务卡片');
    expect(text(await say('stop 3 drive extra'))).toContain('用法：stop');
  });

  it.each(['list', 'stop 3', 'digest', 'digest daily 09:00'])('"%s" with the store down answers an apology with an error id, never throws', async (command) => {
    feishu.addTask({ id: '3', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 9 });
    await store.close();
    const card = await say(command);
    expect(card.type).toBe('error');
    expect(text(card)).toContain('错误编号');
    expect(text(card)).not.toMatch(/sqlite|database|closed|connection/i);
  });

  it('a status card that cannot be watched (store down) says so instead of pretending to be live', async () => {
    feishu.addTask({ id: '4', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 9 });
    await store.close();
    const live = await say('status 4');
    expect(live.type).toBe('task');
    const fixed = fm.updates.at(-1)!;
    expect(fixed.card.buttons?.map((b) => b.action)).toEqual(['refresh']);
    expect(fixed.card.note).toMatch(/错误编号: [0-9a-f]{8}/);
  });

  it('a chat not on the allowlist is told so, and nothing else happens', async () => {
    app.allowedChatIds = ['oc_ok'];
    feishu.addTask({ id: '5', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 9 });
    expect(text(await say('status 5'))).toContain('本群未被允许使用 taskbot');
    expect(feishu.calls(/task_check/)).toHaveLength(0);
    expect((await say('status 5', { chatId: 'oc_ok' })).type).toBe('task');
  });
  it('status … notify (提醒) has the asker wait for the end: the card counts them, and a finished task needs no waiting', async () => {
    feishu.addTask({ id: '9001', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 5 });
    const card = await say('status 9001 提醒');
    expect(text(card)).toContain('1 人等待通知');
    const key = `feishu:${fm.sent.at(-1)!.handle}`;
    expect((await store.subscribers.owed(key)).map((o) => o.userId)).toEqual(['ou_1']);
    feishu.addTask({ id: '9002', kind: 'drive', total: 1, outcome: 'failed', queuedSteps: 0, runningSteps: 0 });
    expect(text(await say('status notify 9002'))).not.toContain('等待通知');
    expect(await store.subscribers.owed(`feishu:${fm.sent.at(-1)!.handle}`)).toEqual([]);
    // A sender id we could not mention (none given) is never subscribed.
    feishu.addTask({ id: '9003', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 5 });
    expect(text(await say('status 9003 notify', { userId: '' }))).not.toContain('等待通知');
    expect(text(await say('stop 9001 notify'))).toContain('没看懂');
  });

  it('notify on|off sets the chat default (admin-only with ADMIN_USER_IDS); every asker then waits', async () => {
    expect(text(await say('notify'))).toContain('本群自动提醒：关闭');
    expect(text(await say('notify maybe'))).toContain('用法：notify on | notify off');
    app.adminUserIds = ['ou_admin'];
    expect(text(await say('提醒 开'))).toContain('只有管理员可以修改本群设置');
    expect(text(await say('提醒 开', { userId: 'ou_admin' }))).toContain('已开启自动提醒');
    expect(text(await say('notify'))).toContain('本群自动提醒：开启');
    feishu.addTask({ id: '9010', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 5 });
    await say('status 9010', { userId: 'ou_2' });
    expect((await store.subscribers.owed(`feishu:${fm.sent.at(-1)!.handle}`)).map((o) => o.userId)).toEqual(['ou_2']);
    // Another chat keeps its own default.
    await say('status 9010', { chatId: 'oc_other', userId: 'ou_3' });
    expect(await store.subscribers.owed(`feishu:${fm.sent.at(-1)!.handle}`)).toEqual([]);
    expect(text(await say('notify off', { userId: 'ou_admin' }))).toContain('已关闭自动提醒');
  });

  it('lang en|zh switches the chat: its answers, its cards, and its digests; settings shows it all', async () => {
    expect(text(await say('lang fr'))).toContain('用法：lang zh | lang en');
    expect(text(await say('语言 en'))).toContain('This chat now uses English.');
    expect(text(await say('help'))).toContain('taskbot help');
    expect(text(await say('help', { chatId: 'oc_other' }))).toContain('taskbot 使用帮助');
    feishu.addTask({ id: '9020', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 5 });
    const card = await say('status 9020');
    expect(card.locale).toBe('en');
    expect((await store.cards.get(`feishu:${fm.sent.at(-1)!.handle}`))!.locale).toBe('en');
    await say('digest daily 09:00');
    const s = await say('settings');
    expect(text(s)).toContain('English');
    expect(text(s)).toContain('daily 09:00 (Asia/Shanghai)');
    expect(text(s)).toContain('Notify by default');
    // Switching after the digest was set: the digest follows the chat's language when it fires.
    expect(text(await say('lang zh'))).toContain('本群已改用中文');
    const fire = async () => {
      const d = (await deps.digests.get({ app: 'feishu', platform: 'feishu', chatId: 'oc_1' }))!;
      await clock.advance(d.next_fire_at - clock.now() + 1000);
      await deps.digests.tick();
    };
    await fire();
    expect(fm.digests.at(-1)!.card).toMatchObject({ locale: 'zh', title: '任务摘要' });
    await say('lang en');
    await fire();
    expect(fm.digests.at(-1)!.card).toMatchObject({ locale: 'en' });
    app.adminUserIds = ['ou_admin'];
    expect(text(await say('lang zh'))).toContain('Only admins');
  });

  it('chatid (群ID) gives the chat id and a curl line for scripts, with the public URL', async () => {
    settings.publicUrl = 'https://taskbot.example.com';
    const card = await say('群ID');
    expect(text(card)).toContain('oc_1');
    expect(text(card)).toContain('curl -X POST https://taskbot.example.com/api/v1/watches');
    expect(text(card)).toContain('\\"chatId\\":\\"oc_1\\"');
    const ding = await say('chatid', { platform: 'dingtalk', chatId: 'cidGroup==' });
    expect(text(ding)).toContain('\\"platform\\":\\"dingtalk\\"');
  });

  it('a store that cannot read the chat settings still answers, in the default language', async () => {
    deps.chats = {
      get: async () => {
        throw new Error('db down');
      },
      set: async () => undefined,
    };
    expect(text(await say('help'))).toContain('taskbot 使用帮助');
  });
});

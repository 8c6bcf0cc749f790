import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bot } from '../../src/app/bot.js';
import { TOPIC_ROBOT } from '../../src/platforms/dingtalk/sdk.js';
import { FakeDingtalk } from '../../src/sandbox/fake-dingtalk.js';
import { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import { appsFileEnv } from '../helpers/apps.js';
import { startTestBot, until } from '../helpers/bot.js';

/**
 * Isolation between apps, as a model-based test: random commands, presses and digests in four apps
 * (two Feishu apps whose tenants share chat ids and task ids, two DingTalk organisations likewise),
 * checked after every step against what each app alone may see and do (DESIGN §8).
 */
const RUNS = Number(process.env.APPS_MODEL_RUNS ?? 20);
const SEED = Number(process.env.APPS_MODEL_SEED ?? 20261206);

/** Task ids: some known to both apps of a platform, some to one only (drive ids for Feishu, doc ids for DingTalk). */
const FEISHU_TASKS = { fa: ['71001', '71002', '71003'], fb: ['71002', '71003', '71004'] } as const;
const DING_TASKS = { da: ['d-81001', 'd-81002'], db: ['d-81002', 'd-81003'] } as const;
const USERS = ['ou_boss', 'ou_ann', 'ou_bob'] as const;

type FeishuApp = keyof typeof FEISHU_TASKS;
type DingApp = keyof typeof DING_TASKS;
type Step =
  | { kind: 'say'; app: FeishuApp; chat: 'shared' | 'own'; user: number; words: 'status' | 'list' | 'mine' | 'stop' | 'digest'; task: number }
  | { kind: 'press'; app: FeishuApp; card: number; user: number; action: 'stop' | 'refresh' }
  | { kind: 'ding'; app: DingApp; chat: 'shared' | 'own'; task: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('say' as const),
    app: fc.constantFrom<FeishuApp>('fa', 'fb'),
    chat: fc.constantFrom('shared' as const, 'own' as const),
    user: fc.nat({ max: 2 }),
    words: fc.constantFrom('status' as const, 'status' as const, 'list' as const, 'mine' as const, 'stop' as const, 'digest' as const),
    task: fc.nat({ max: 3 }),
  }),
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('press' as const),
      app: fc.constantFrom<FeishuApp>('fa', 'fb'),
      card: fc.nat({ max: 5 }),
      user: fc.nat({ max: 2 }),
      action: fc.constantFrom('stop' as const, 'stop' as const, 'refresh' as const),
    }),
  },
  fc.record({
    kind: fc.constant('ding' as const),
    app: fc.constantFrom<DingApp>('da', 'db'),
    chat: fc.constantFrom('shared' as const, 'own' as const),
    task: fc.nat({ max: 2 }),
  }),
);

describe('apps are isolated (model-based)', () => {
  const feishu = {} as Record<FeishuApp, FakeFeishu>;
  const ding = {} as Record<DingApp, FakeDingtalk>;
  let bot: Bot;
  let run = 0;

  beforeAll(async () => {
    feishu.fa = new FakeFeishu();
    feishu.fb = new FakeFeishu('cli_b1b2c3d4e5f60719', 'fb-secret');
    ding.da = new FakeDingtalk();
    ding.db = new FakeDingtalk('dingfakeclientdb', 'db-secret');
    await Promise.all([...Object.values(feishu), ...Object.values(ding)].map((f) => f.listen()));
    for (const [app, ids] of Object.entries(FEISHU_TASKS) as [FeishuApp, readonly string[]][])
      for (const id of ids) feishu[app].addTask({ id, kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 1_000_000 });
    for (const [app, ids] of Object.entries(DING_TASKS) as [DingApp, readonly string[]][]) {
      ding[app].users.set('staff001', 'union-001');
      for (const id of ids) ding[app].addTask({ id, kind: 'doc', total: 10, outcome: 'succeeded', queuedSteps: 0, runningSteps: 1_000_000 });
    }
    ({ bot } = await startTestBot(
      appsFileEnv([
        { id: 'fa', fake: feishu.fa, extra: { adminUserIds: ['ou_boss'] } },
        { id: 'fb', fake: feishu.fb },
        { id: 'da', fake: ding.da },
        { id: 'db', fake: ding.db },
      ]),
    ));
  }, 30_000);
  afterAll(async () => {
    await bot?.stop();
    await Promise.all([...Object.values(feishu), ...Object.values(ding)].map((f) => f?.close()));
  });

  /** Every command kept has been answered (the work queue is empty). */
  async function settled(): Promise<void> {
    await until('the queue drained', async () => /^taskbot_work_queue_depth 0$/m.test(await bot.metrics.text()), 10_000);
  }

  it('no row, message, mention or rights decision of one app is ever touched by another', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 4, maxLength: 14 }), async (steps) => {
        run++;
        const chats = { shared: `oc_s${run}`, fa: `oc_fa${run}`, fb: `oc_fb${run}` };
        const dchats = { shared: `cidS${run}==`, da: `cidA${run}==`, db: `cidB${run}==` };
        const chatOf = (app: FeishuApp, c: 'shared' | 'own') => (c === 'shared' ? chats.shared : chats[app]);
        /** The cards each app posted this run, with who asked: what presses aim at. */
        const cards: Record<FeishuApp, { messageId: string; asker: string }[]> = { fa: [], fb: [] };
        const isAdmin = (app: FeishuApp, user: string) => app === 'fa' && user === 'ou_boss';

        for (const s of steps) {
          if (s.kind === 'say') {
            const user = USERS[s.user]!;
            const ids = ['71001', '71002', '71003', '71004'];
            const text = { status: `status ${ids[s.task]}`, list: 'list', mine: 'mine', stop: `stop ${ids[s.task]}`, digest: 'digest now' }[s.words];
            const chat = chatOf(s.app, s.chat);
            const activeBefore = (await bot.store.cards.overview({ app: s.app, chatId: chat, endedLimit: 0 })).cards.filter((c) => c.status === 'active');
            const { messageId, event } = feishu[s.app].say(chat, text, { user });
            await feishu[s.app].gateway.push(event);
            const answer = await until(`the answer in ${s.app}`, () => [...feishu[s.app].im.messages.values()].find((m) => m.reply_to === messageId));
            if (s.words === 'status') {
              const known = (FEISHU_TASKS[s.app] as readonly string[]).includes(ids[s.task]!);
              const row = await bot.store.cards.get(`${s.app}:${answer.message_id}`);
              // A task only the other app knows is no task here: never read with the other app's rights.
              expect(row !== undefined).toBe(known);
              if (row) {
                expect(row).toMatchObject({ app: s.app, task_key: `${s.app}:drive:${ids[s.task]}`, chat_id: chatOf(s.app, s.chat) });
                cards[s.app].push({ messageId: answer.message_id, asker: user });
              }
            }
            if (s.words === 'stop') {
              // `stop <id>` stops the cards its sender may stop, and only in its own app's chat.
              for (const c of activeBefore) {
                const now = (await bot.store.cards.get(c.card_key))!.status;
                const hit = c.task_key === `${s.app}:drive:${ids[s.task]}` && (c.asked_by === user || isAdmin(s.app, user));
                if (!hit) expect(now).toBe('active');
              }
            }
            if (s.words === 'list' || s.words === 'digest') {
              // It names only tasks of its own app's cards in that chat.
              const own = (await bot.store.cards.overview({ app: s.app, chatId: chatOf(s.app, s.chat), endedLimit: 100 })).cards.map(
                (c) => c.task_key.split(':')[2],
              );
              for (const id of ids) if (JSON.stringify(answer.card).includes(id)) expect(own).toContain(id);
            }
          } else if (s.kind === 'press') {
            const mine = cards[s.app];
            if (mine.length === 0) continue;
            const target = mine[s.card % mine.length]!;
            const user = USERS[s.user]!;
            const before = (await bot.store.cards.get(`${s.app}:${target.messageId}`))!.status;
            const ack = await feishu[s.app].gateway.push(feishu[s.app].click(target.messageId, s.action, { user }));
            const after = (await bot.store.cards.get(`${s.app}:${target.messageId}`))!.status;
            const may = user === target.asker || isAdmin(s.app, user);
            if (s.action === 'stop' && before === 'active') {
              // An admin of one app is nobody in the other; each app's admins come from its own list.
              expect(after).toBe(may ? 'stopped' : 'active');
              if (!may) expect(JSON.stringify(ack.data)).toContain('Only the person who asked');
            }
          } else {
            const chat = s.chat === 'shared' ? dchats.shared : dchats[s.app];
            const id = ['d-81001', 'd-81002', 'd-81003'][s.task]!;
            await ding[s.app].stream.push(TOPIC_ROBOT, ding[s.app].robotMessage(chat, `status ${id}`).data);
          }
          await settled();
        }

        // Rows: every card belongs to the app whose platform holds its message, in that app's chats.
        const rows = [
          ...(await bot.store.cards.overview({ app: 'fa', chatId: chats.shared, endedLimit: 500 })).cards,
          ...(await bot.store.cards.overview({ app: 'fb', chatId: chats.shared, endedLimit: 500 })).cards,
        ];
        for (const r of rows) {
          expect(r.task_key.startsWith(`${r.app}:`)).toBe(true);
          expect(feishu[r.app as FeishuApp].im.messages.get(r.handle)?.chat_id).toBe(chats.shared);
        }
        // Messages: neither Feishu app ever wrote into the other's own chat; nor DingTalk.
        expect(feishu.fa.im.inChat(chats.fb)).toEqual([]);
        expect(feishu.fb.im.inChat(chats.fa)).toEqual([]);
        const spaces = (d: FakeDingtalk) => [...d.im.cards.values()].map((c) => c.openSpaceId);
        expect(spaces(ding.da).filter((s) => s.endsWith(dchats.db))).toEqual([]);
        expect(spaces(ding.db).filter((s) => s.endsWith(dchats.da))).toEqual([]);
        // Each DingTalk card shows a task its own organisation has.
        for (const [app, d] of Object.entries(ding) as [DingApp, FakeDingtalk][])
          for (const c of d.im.cards.values()) {
            const shown = ['d-81001', 'd-81002', 'd-81003'].filter((id) => c.params.title?.includes(id));
            for (const id of shown) expect(DING_TASKS[app] as readonly string[]).toContain(id);
          }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
  }, 240_000);
});

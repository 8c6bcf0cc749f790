import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import { FeishuApi } from '../../src/platforms/feishu/api-client.js';
import { FeishuContactProvider } from '../../src/providers/feishu-contact.js';
import { FeishuDriveProvider } from '../../src/providers/feishu-drive.js';
import { TaskRegistry } from '../../src/providers/registry.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { taskCard } from '../../src/cards/task-card.js';
import { WatchEngine } from '../../src/watch/engine.js';
import type { WatchOptions } from '../../src/watch/watch-options.js';
import { cardKey } from '../../src/domain/chat.js';
import { RecordingMessenger } from '../helpers/recording-messenger.js';
import { createLogger } from '../../src/log.js';
import { freshStore, STORE_KINDS } from '../helpers/stores.js';
import { round } from '../helpers/round.js';

const T0 = Date.UTC(2026, 10, 21, 2, 0, 0);
const TZ = 'Asia/Shanghai';
const hex = (n: number) => n.toString(16).padStart(32, '0');

describe.each(STORE_KINDS)('watch engine (%s)', (kind) => {
  let fake: FakeFeishu;
  let registry: TaskRegistry;
  let store: Store;
  let url: string;
  let clock: ManualClock;
  let messenger: RecordingMessenger;
  const engines: WatchEngine[] = [];
  const stores: Store[] = [];

  function engine(s: Store = store, options: Partial<WatchOptions> = {}, owner?: string) {
    const e = new WatchEngine({ store: s, tasks: registry, messengers: { feishu: messenger }, timeZone: TZ, clock, options, ...(owner && { owner }) });
    engines.push(e);
    return e;
  }

  /** What a command does: fetch, send the card, start watching it. */
  async function showCard(e: WatchEngine, chatId: string, id: string) {
    const snap = await registry.fetch({ app: 'feishu', platform: 'feishu', id });
    const model = taskCard(snap, { locale: 'zh', timeZone: TZ, mode: 'live' });
    const handle = await messenger.send({ app: 'feishu', platform: 'feishu', chatId }, model);
    await e.cards.track(handle, snap, 'zh', model);
    return handle;
  }

  const taskCalls = () => fake.calls(/\/open-apis\/(contact|drive)\//).length;

  beforeEach(async () => {
    fake = new FakeFeishu();
    await fake.listen();
    const api = new FeishuApi({
      appId: fake.appId,
      appSecret: fake.appSecret,
      domain: fake.baseUrl,
      timeoutMs: 2000,
      retry: { policy: { attempts: 2, baseDelayMs: 5, maxDelayMs: 10 } },
    });
    registry = new TaskRegistry({ feishu: [new FeishuContactProvider(api), new FeishuDriveProvider(api)] });
    ({ store, url } = await freshStore(kind));
    stores.push(store);
    clock = new ManualClock(T0);
    messenger = new RecordingMessenger('feishu', () => clock.now());
  });

  afterEach(async () => {
    for (const e of engines.splice(0)) await e.stop().catch(() => undefined);
    for (const s of stores.splice(0)) await s.close().catch(() => undefined);
    await fake.close();
  });

  it('polls each distinct task once per round however many cards show it (100 cards on 10 tasks → 10 fetches)', async () => {
    const e = engine();
    for (let t = 0; t < 10; t++) fake.addTask({ id: hex(t + 1), kind: 'contact', total: 50, outcome: 'succeeded', queuedSteps: 0, runningSteps: 20 });
    for (let c = 0; c < 100; c++) await showCard(e, `oc_${c}`, hex((c % 10) + 1));
    const before = taskCalls();
    await clock.advance(2000);
    expect(await round(e)).toBe(10);
    expect(taskCalls() - before).toBe(10);
    // Every card changed (counts grew), so every card got exactly one update.
    expect(messenger.updates).toHaveLength(100);
    expect(new Set(messenger.updates.map((u) => u.handle)).size).toBe(100);
  });

  it("draws a task's cards that look alike once a round (one model for all of them), and the others apart", async () => {
    const e = engine();
    fake.addTask({ id: hex(31), kind: 'contact', total: 50, outcome: 'succeeded', queuedSteps: 0, runningSteps: 20 });
    const zh = [await showCard(e, 'oc_1', hex(31)), await showCard(e, 'oc_2', hex(31))];
    const snap = await registry.fetch({ app: 'feishu', platform: 'feishu', id: hex(31) });
    const model = taskCard(snap, { locale: 'en', timeZone: TZ, mode: 'live' });
    const en = await messenger.send({ app: 'feishu', platform: 'feishu', chatId: 'oc_3' }, model);
    await e.cards.track(en, snap, 'en', model);
    await clock.advance(2000);
    expect(await round(e)).toBe(1);
    const [a, b] = zh.map((h) => messenger.updatesOf(h.handle).at(-1)!);
    const c = messenger.updatesOf(en.handle).at(-1)!;
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(c.title).not.toBe(a!.title);
  });

  it('backs off 2 s → 4 s → 8 s … while nothing changes and sends no update', async () => {
    const e = engine();
    fake.addTask({ id: '555', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 1000 });
    await showCard(e, 'oc_1', '555');
    const dues: number[] = [];
    for (let i = 0; i < 6; i++) {
      const t = (await store.tasks.get('feishu:drive:555'))!;
      dues.push(t.next_due_at - clock.now());
      await clock.advance(t.next_due_at - clock.now());
      expect(await round(e)).toBe(1);
    }
    expect(dues).toEqual([2000, 4000, 8000, 16000, 32000, 60000]);
    expect((await store.tasks.get('feishu:drive:555'))!.backoff_ms).toBe(60000);
    expect(messenger.updates).toHaveLength(0);
    // Not due yet: nothing happens.
    await clock.advance(1000);
    expect(await round(e)).toBe(0);
  });

  it('updates on each change, makes a final update at the end and stops watching', async () => {
    const e = engine();
    fake.addTask({ id: hex(7), kind: 'contact', total: 10, outcome: 'partial', queuedSteps: 0, runningSteps: 3 });
    const h = await showCard(e, 'oc_1', hex(7));
    for (let i = 0; i < 5; i++) {
      await clock.advance(2000);
      await round(e);
    }
    const cards = messenger.updatesOf(h.handle);
    expect(cards.map((c) => c.color)).toEqual(['blue', 'blue', 'orange']);
    // The final card's one button: its failures, as a file.
    expect(cards.at(-1)!.buttons?.map((b) => b.action)).toEqual(['export']);
    expect(await store.cards.get(cardKey(h))).toMatchObject({ status: 'done' });
    expect((await store.tasks.get(`feishu:contact:${hex(7)}`))!.active).toBe(0);
    const calls = taskCalls();
    await clock.advance(120_000);
    expect(await round(e)).toBe(0);
    expect(taskCalls()).toBe(calls);
  });

  it("an ended task's finals waiting in the queue are the queue's: no round looks at the task again until the 30 s re-check", async () => {
    const e = engine();
    fake.addTask({ id: hex(17), kind: 'contact', total: 10, outcome: 'succeeded', queuedSteps: 0, runningSteps: 2 });
    const h = await showCard(e, 'oc_1', hex(17));
    await showCard(e, 'oc_2', hex(17));
    await clock.advance(2000);
    // The poll that sees the end offers both finals to the queue (not flushed: they wait there).
    expect(await e.tick()).toBe(1);
    expect(e.queueStats().waiting).toBe(2);
    for (const ms of [2000, 4000, 8000, 15_000]) {
      await clock.advance(ms);
      expect(await e.tick()).toBe(0);
    }
    await clock.advance(1000);
    // The safety net, should this replica have gone away: it settles them without polling.
    const calls = taskCalls();
    expect(await round(e)).toBe(1);
    expect(taskCalls()).toBe(calls);
    expect(await store.cards.get(cardKey(h))).toMatchObject({ status: 'done', shown: 'done' });
  });

  it('gives up after 24 h with a note and a Refresh button, and Refresh starts again', async () => {
    const e = engine();
    fake.addTask({ id: '77', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 100_000 });
    const h = await showCard(e, 'oc_1', '77');
    await clock.advance(24 * 3600_000);
    expect(await round(e)).toBe(1);
    const last = messenger.updatesOf(h.handle).at(-1)!;
    expect(last.note).toContain('24 小时');
    expect(last.buttons?.map((b) => b.action)).toEqual(['refresh']);
    expect(await store.cards.get(cardKey(h))).toMatchObject({ status: 'expired' });
    await clock.advance(3600_000);
    expect(await round(e)).toBe(0);

    const fresh = await e.cards.refresh(cardKey(h), { inline: true });
    expect(fresh.status === 'fresh' && fresh.card?.buttons?.map((b) => b.action)).toEqual(['refresh', 'stop', 'notify']);
    expect(await e.cards.refresh('feishu:om_nope', { inline: true })).toEqual({ status: 'unknown' });
    expect(await store.cards.get(cardKey(h))).toMatchObject({ status: 'active' });
    const due = (await store.tasks.get('feishu:drive:77'))!.next_due_at;
    await clock.advance(due - clock.now());
    expect(await round(e)).toBe(1);
  });

  it('keeps the watch through transient errors, says so after three, and recovers', async () => {
    const e = engine();
    fake.addTask({ id: '88', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 4 });
    const h = await showCard(e, 'oc_1', '88');
    fake.inject({ path: /task_check/, kind: '5xx', times: 6 }); // 3 polls × 2 attempts
    for (let i = 0; i < 3; i++) {
      const t = (await store.tasks.get('feishu:drive:88'))!;
      await clock.advance(t.next_due_at - clock.now());
      await round(e);
    }
    const t = (await store.tasks.get('feishu:drive:88'))!;
    expect(t).toMatchObject({ active: 1, error_count: 3, last_error: 'UPSTREAM_UNAVAILABLE' });
    expect(messenger.updatesOf(h.handle).at(-1)!.note).toContain('UPSTREAM_UNAVAILABLE');
    await clock.advance(t.next_due_at - clock.now());
    await round(e);
    expect((await store.tasks.get('feishu:drive:88'))!.error_count).toBe(0);
    expect(messenger.updatesOf(h.handle).at(-1)!.note).toBeUndefined();
  });

  it('ends the watch with the error on the card when the task disappears or a scope is lost', async () => {
    const e = engine();
    fake.addTask({ id: '91', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 50 });
    fake.addTask({ id: hex(92), kind: 'contact', total: 5, outcome: 'succeeded', queuedSteps: 0, runningSteps: 50 });
    const gone = await showCard(e, 'oc_1', '91');
    const denied = await showCard(e, 'oc_1', hex(92));
    fake.tasks.remove('drive', '91');
    fake.denyScope('/open-apis/contact/v2/task/get');
    await clock.advance(2000);
    await round(e);
    expect(messenger.updatesOf(gone.handle).at(-1)!.note).toMatch(/\(TASK_NOT_FOUND\)$/);
    expect(messenger.updatesOf(denied.handle).at(-1)!.note).toMatch(/\(PERMISSION_DENIED\)$/);
    expect(await store.cards.get(cardKey(gone))).toMatchObject({ status: 'error' });
    expect((await store.tasks.get('feishu:drive:91'))!.active).toBe(0);
  });

  it('drops a recalled card quietly and keeps the others', async () => {
    const e = engine();
    fake.addTask({ id: hex(5), kind: 'contact', total: 9, outcome: 'succeeded', queuedSteps: 0, runningSteps: 5 });
    const a = await showCard(e, 'oc_1', hex(5));
    const b = await showCard(e, 'oc_2', hex(5));
    messenger.gone.add(a.handle);
    await clock.advance(2000);
    await round(e);
    expect(await store.cards.get(cardKey(a))).toMatchObject({ status: 'gone' });
    expect(messenger.updatesOf(b.handle)).toHaveLength(1);
    expect((await store.tasks.get(`feishu:contact:${hex(5)}`))!.active).toBe(1);
  });

  it('only a message that can no longer be edited ends its card, and the task with no card left costs no more polls', async () => {
    const e = engine();
    fake.addTask({ id: hex(8), kind: 'contact', total: 500, outcome: 'succeeded', queuedSteps: 0, runningSteps: 100 });
    const h = await showCard(e, 'oc_1', hex(8));
    messenger.gone.add(h.handle);
    await clock.advance(2000);
    await round(e);
    expect(await store.cards.get(cardKey(h))).toMatchObject({ status: 'gone' });
    expect((await store.tasks.get(`feishu:contact:${hex(8)}`))!.active).toBe(0);
    const polls = taskCalls();
    const attempts = messenger.attempts;
    await clock.advance(600_000);
    await round(e);
    expect(taskCalls()).toBe(polls);
    expect(messenger.attempts).toBe(attempts);
  });

  it('other refusals keep the card owed, tried again with backoff: refused for its content, it gets a smaller one at once, then waits its turn', async () => {
    const e = engine();
    fake.addTask({ id: hex(9), kind: 'contact', total: 500, outcome: 'partial', queuedSteps: 0, runningSteps: 100 });
    fake.addTask({ id: hex(10), kind: 'contact', total: 500, outcome: 'partial', queuedSteps: 0, runningSteps: 100 });
    const small = await showCard(e, 'oc_1', hex(9));
    const never = await showCard(e, 'oc_2', hex(10));
    messenger.refuseLists.add(small.handle);
    messenger.failWith.set(never.handle, 'CARD_REJECTED');
    await clock.advance(2000);
    await round(e);
    const sent = messenger.updatesOf(small.handle).at(-1)!;
    expect(sent.blocks.some((b) => b.type === 'list')).toBe(false);
    expect(sent.blocks.some((b) => b.type === 'progress')).toBe(true);
    expect(await store.cards.get(cardKey(small))).toMatchObject({ status: 'active' });
    expect(await store.cards.get(cardKey(never))).toMatchObject({ status: 'active', fail_count: 1, last_error: null });
    // Not tried again before its backoff is up, whatever the rounds.
    const tries = messenger.attempts;
    await round(e);
    expect(messenger.attempts).toBe(tries);
    // Once its content fits, it catches up.
    messenger.failWith.delete(never.handle);
    await clock.advance(5000);
    await round(e);
    expect(messenger.updatesOf(never.handle)).not.toHaveLength(0);
    expect(await store.cards.get(cardKey(never))).toMatchObject({ status: 'active', fail_count: 0 });
  });

  it('a scope removed under a live card: the card waits (not ended), the admin is told once, and when it is restored the card catches up with its end and the mentions it owes', async () => {
    const e = engine();
    fake.addTask({ id: hex(12), kind: 'contact', total: 500, outcome: 'succeeded', queuedSteps: 0, runningSteps: 4 });
    const h = await showCard(e, 'oc_1', hex(12));
    await e.cards.subscribe(cardKey(h), 'ou_waiting00000000000000000000001');
    messenger.failWith.set(h.handle, 'PERMISSION_DENIED');
    messenger.failNextMentionsWith = 'PERMISSION_DENIED';
    for (let i = 0; i < 8; i++) {
      await clock.advance(60_000);
      await round(e);
    }
    // The task ended meanwhile: the card owes its final state, and waits for the admin.
    const waiting = (await store.cards.get(cardKey(h)))!;
    expect(waiting).toMatchObject({ status: 'done', last_error: 'PERMISSION_DENIED' });
    expect(waiting.shown).not.toBe('done');
    expect(e.alerts.current()).toEqual([{ app: 'feishu', code: 'PERMISSION_DENIED' }]);
    expect(messenger.mentions).toHaveLength(0);
    // Retried, but rarely: never more than one try a minute once it has backed off.
    const tries = messenger.attempts;
    await clock.advance(10 * 60_000);
    await round(e);
    expect(messenger.attempts - tries).toBeLessThanOrEqual(2);
    // The admin restores the scope: the end shows, the people waiting are told, the alert clears.
    messenger.failWith.delete(h.handle);
    messenger.failNextMentionsWith = undefined;
    await clock.advance(10 * 60_000);
    await round(e);
    expect(messenger.updatesOf(h.handle).at(-1)?.final).toBe(true);
    expect(messenger.mentions).toHaveLength(1);
    expect(await store.cards.get(cardKey(h))).toMatchObject({ status: 'done', shown: 'done', last_error: null });
    expect(e.alerts.current()).toEqual([]);
  });

  it('Refresh on a card the platform refuses to update tells the truth: not ended, waiting for the admin', async () => {
    const e = engine();
    fake.addTask({ id: hex(13), kind: 'contact', total: 500, outcome: 'succeeded', queuedSteps: 0, runningSteps: 2 });
    const h = await showCard(e, 'oc_1', hex(13));
    messenger.failWith.set(h.handle, 'PERMISSION_DENIED');
    for (let i = 0; i < 4; i++) {
      await clock.advance(30_000);
      await round(e);
    }
    expect(await e.cards.refresh(cardKey(h), { inline: true })).toMatchObject({ status: 'ended', blocked: 'PERMISSION_DENIED' });
  });

  it('the 24 h give-up applies while the upstream keeps failing', async () => {
    const e = engine();
    fake.addTask({ id: '93', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 100_000 });
    const h = await showCard(e, 'oc_1', '93');
    fake.inject({ path: /task_check/, kind: '5xx', times: 1_000 });
    await clock.advance(24 * 3600_000);
    await round(e);
    expect(await store.cards.get(cardKey(h))).toMatchObject({ status: 'expired' });
    expect((await store.tasks.get('feishu:drive:93'))!.active).toBe(0);
  });

  it('retries a failed card update at the next round', async () => {
    const e = engine();
    fake.addTask({ id: hex(6), kind: 'contact', total: 500, outcome: 'succeeded', queuedSteps: 0, runningSteps: 50 });
    const h = await showCard(e, 'oc_1', hex(6));
    messenger.failNextUpdates = 1;
    await clock.advance(2000);
    await round(e);
    expect(messenger.updatesOf(h.handle)).toHaveLength(0);
    const t = (await store.tasks.get(`feishu:contact:${hex(6)}`))!;
    expect(t.next_due_at - clock.now()).toBeLessThanOrEqual(1000);
    await clock.advance(1000);
    await round(e);
    expect(messenger.updatesOf(h.handle)).toHaveLength(1);
  });

  it("Stop ends one card; `stop <id>` ends the chat's cards; the task keeps going for other chats", async () => {
    const e = engine();
    fake.addTask({ id: hex(8), kind: 'contact', total: 500, outcome: 'succeeded', queuedSteps: 0, runningSteps: 50 });
    const a = await showCard(e, 'oc_1', hex(8));
    const b = await showCard(e, 'oc_1', hex(8));
    const c = await showCard(e, 'oc_2', hex(8));
    await clock.advance(1000); // one update a second per card
    const stopped = await e.cards.stopCard(cardKey(a), { inline: true });
    expect(stopped.status === 'stopped' && stopped.card?.note).toContain('已停止自动更新');
    expect(messenger.updatesOf(a.handle)).toHaveLength(0); // answered inline
    expect(await e.cards.stopInChat({ app: 'feishu', platform: 'feishu', chatId: 'oc_1' }, hex(8))).toBe(1);
    expect(messenger.updatesOf(b.handle).at(-1)!.note).toContain('已停止自动更新');
    await clock.advance(2000);
    await round(e);
    expect(messenger.updatesOf(c.handle)).toHaveLength(1);
    expect(messenger.updatesOf(a.handle)).toHaveLength(0);
    expect(await e.cards.stopInChat({ app: 'feishu', platform: 'feishu', chatId: 'oc_2' }, hex(8))).toBe(1);
    expect((await store.tasks.get(`feishu:contact:${hex(8)}`))!.active).toBe(0);
  });

  it('resumes every open watch after the store is closed and reopened', async () => {
    const first = engine();
    for (let t = 0; t < 3; t++) fake.addTask({ id: hex(t + 20), kind: 'contact', total: 9, outcome: 'succeeded', queuedSteps: 0, runningSteps: 9 });
    for (let t = 0; t < 3; t++) await showCard(first, `oc_${t}`, hex(t + 20));
    await first.stop();
    await store.close();
    store = await openStore(url);
    stores.push(store);
    const second = engine(store);
    await clock.advance(2000);
    expect(await round(second)).toBe(3);
    expect(messenger.updates).toHaveLength(3);
  });

  it('two engines on one database never poll or update the same thing twice', async () => {
    const other = await openStore(url);
    stores.push(other);
    const a = engine(store, { batch: 7 }, 'A');
    const b = engine(other, { batch: 7 }, 'B');
    for (let t = 0; t < 20; t++) fake.addTask({ id: hex(t + 100), kind: 'contact', total: 40, outcome: 'succeeded', queuedSteps: 0, runningSteps: 30 });
    for (let c = 0; c < 40; c++) await showCard(a, `oc_${c}`, hex((c % 20) + 100));
    for (let r = 0; r < 3; r++) {
      const before = taskCalls();
      const updatesBefore = messenger.updates.length;
      await clock.advance(2000);
      // Both race over the same due work until none is left.
      let handled = 0;
      for (;;) {
        const [x, y] = await Promise.all([round(a), round(b)]);
        if (x + y === 0) break;
        handled += x + y;
      }
      expect(handled).toBe(20);
      expect(taskCalls() - before).toBe(20);
      const updates = messenger.updates.slice(updatesBefore);
      expect(updates).toHaveLength(40);
      expect(new Set(updates.map((u) => u.handle)).size).toBe(40);
    }
    expect(a.stats.fetches + b.stats.fetches).toBe(60);
  });

  it("a replica whose queue runs dry takes over half the other's queued finals: every final goes out once, from both", async () => {
    // Replicas share a database on PostgreSQL; on SQLite (one process) they share the store.
    const other = kind === 'postgres' ? await openStore(url) : store;
    if (other !== store) stores.push(other);
    const two = () => 0.5;
    const logged: string[] = [];
    const logger = createLogger('warn', { write: (l: string) => void logged.push(l) });
    const a = new WatchEngine({ store, tasks: registry, messengers: { feishu: messenger }, timeZone: TZ, clock, owner: 'A', share: two, logger });
    const b = new WatchEngine({ store: other, tasks: registry, messengers: { feishu: messenger }, timeZone: TZ, clock, owner: 'B', share: two, logger });
    const alone = engine(store, {}, 'C');
    engines.push(a, b);
    for (let t = 0; t < 10; t++) fake.addTask({ id: hex(t + 500), kind: 'contact', total: 10, outcome: 'succeeded', queuedSteps: 0, runningSteps: 2 });
    for (let c = 0; c < 20; c++) await showCard(a, `oc_${c}`, hex((c % 10) + 500));
    await clock.advance(2000);
    // A sees every task end: all twenty finals wait in its queue.
    expect(await a.tick()).toBe(10);
    expect(a.queueStats().waiting).toBe(20);
    // A replica alone has nobody to take from; A's own queue is full.
    expect(await alone.adoption.look()).toBe(0);
    expect(await a.adoption.look()).toBe(0);
    expect(await b.adoption.look()).toBe(5);
    expect(b.queueStats().waiting).toBe(10);
    // Both send at once (a turn finding the task held by the other waits a moment): A skips the five tasks B took.
    for (let i = 0; i < 5 && a.queueStats().waiting + b.queueStats().waiting > 0; i++) {
      await Promise.all([a.flush(), b.flush()]);
      await clock.advance(1000);
    }
    const { updates } = messenger;
    expect(new Set(updates.map((u) => u.handle)).size).toBe(20);
    expect(updates).toHaveLength(20);
    const sent = (e: WatchEngine) => Object.values(e.stats.sent).reduce((x, y) => x + y, 0);
    expect(sent(a)).toBe(10);
    expect(sent(b)).toBe(10);
    // A's skipped turns let the tasks go cleanly: nothing failed, no lease left behind.
    expect(logged).toEqual([]);
    for (let t = 0; t < 10; t++) expect(await store.tasks.get(`feishu:contact:${hex(t + 500)}`)).toMatchObject({ lease_owner: null });
    expect(await b.adoption.look()).toBe(0);
  });

  it('a replica with no poll of an API left claims none of its due tasks: they stay in the store for a replica with room', async () => {
    const other = kind === 'postgres' ? await openStore(url) : store;
    if (other !== store) stores.push(other);
    // Contact polls: 4 a second for the app, 2 for each of the two replicas; a round claims 2 at a time.
    const options = { pollBudget: { 'feishu:contact': 4 }, batch: 2 };
    const a = new WatchEngine({ store, tasks: registry, messengers: { feishu: messenger }, timeZone: TZ, clock, owner: 'A', share: () => 0.5, options });
    const b = new WatchEngine({ store: other, tasks: registry, messengers: { feishu: messenger }, timeZone: TZ, clock, owner: 'B', share: () => 0.5, options });
    engines.push(a, b);
    for (let t = 0; t < 6; t++) {
      fake.addTask({ id: hex(t + 600), kind: 'contact', total: 10, outcome: 'succeeded', queuedSteps: 0, runningSteps: 9 });
      await showCard(a, `oc_${t}`, hex(t + 600));
    }
    await clock.advance(2000);
    expect(await a.tick()).toBe(2);
    expect(a.stats.fetches).toBe(2);
    // A's contact polls are spent for this second: it leaves the other four due tasks alone...
    expect(await a.tick()).toBe(0);
    expect(a.stats.deferred).toBe(0);
    // ...and B, with room, polls them.
    expect(await b.tick()).toBe(2);
    expect(b.stats.fetches).toBe(2);
  });

  it.runIf(kind === 'sqlite')('survives a database locked by another process: the busy round fails, the next one carries on', async () => {
    const e = engine();
    fake.addTask({ id: hex(400), kind: 'contact', total: 500, outcome: 'succeeded', queuedSteps: 0, runningSteps: 9 });
    const h = await showCard(e, 'oc_1', hex(400));
    // Another process locks the database for a second.
    const locker = spawn(
      process.execPath,
      [
        '-e',
        `const D=require('better-sqlite3');const d=new D(${JSON.stringify(url.replace(/^sqlite:/, ''))});d.exec('BEGIN EXCLUSIVE');console.log('locked');setTimeout(()=>{d.exec('COMMIT');d.close()},1000)`,
      ],
      { cwd: process.cwd() },
    );
    await new Promise((r) => locker.stdout.once('data', r));
    await clock.advance(2000);
    await expect(round(e)).rejects.toThrow(/locked|busy/i);
    await new Promise((r) => locker.once('exit', r));
    expect(await round(e)).toBe(1);
    expect(messenger.updatesOf(h.handle)).toHaveLength(1);
    expect((await store.tasks.get(`feishu:contact:${hex(400)}`))!.lease_owner).toBeNull();
  });

  it("takes over a crashed engine's work when its lease lapses", async () => {
    const e = engine(store, { leaseMs: 15_000 }, 'survivor');
    fake.addTask({ id: hex(300), kind: 'contact', total: 9, outcome: 'succeeded', queuedSteps: 0, runningSteps: 9 });
    const h = await showCard(e, 'oc_1', hex(300));
    await clock.advance(2000);
    // The other engine claims the task and dies before finishing it.
    expect(await store.tasks.claimDue('crashed', clock.now(), clock.now() + 15_000, 10)).toHaveLength(1);
    expect(await round(e)).toBe(0);
    await clock.advance(14_000);
    expect(await round(e)).toBe(0);
    await clock.advance(1_001);
    expect(await round(e)).toBe(1);
    expect(messenger.updatesOf(h.handle)).toHaveLength(1);
  });
});

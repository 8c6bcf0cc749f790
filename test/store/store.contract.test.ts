import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { sql } from 'kysely';
import { openStore } from '../../src/store/open.js';
import type { NewCard, NewTask, Store } from '../../src/store/store.js';
import { cardRow, taskRow } from '../helpers/rows.js';
import { freshStore, STORE_KINDS } from '../helpers/stores.js';
import { getChatSettings, setChatSettings } from '../../src/store/chat-settings.js';
import { abandonRequests, answerRequest, claimRequest, IDEMPOTENCY_TTL_MS, releaseRequest, renewRequests } from '../../src/store/api-requests.js';

const task = (key: string, over: Record<string, unknown> = {}) => taskRow(key, over as Partial<NewTask>);
const card = (ck: string, taskKey: string, over: Record<string, unknown> = {}) => cardRow(ck, taskKey, over as Partial<NewCard>);

describe.each(STORE_KINDS)('Store contract (%s)', (kind) => {
  let store: Store;
  let url: string;
  afterEach(async () => store?.close());

  async function open() {
    ({ store, url } = await freshStore(kind));
  }

  it('migrates on open, answers ping, and reopening keeps the data', async () => {
    await open();
    await store.ping();
    await store.cards.add(card('feishu:om_1', 'feishu:drive:1'), task('feishu:drive:1'), false);
    await store.close();
    store = await openStore(url);
    expect(await store.cards.get('feishu:om_1')).toMatchObject({ task_key: 'feishu:drive:1', status: 'active' });
    expect(await store.cards.countActive()).toBe(1);
  });

  it('replicas count each other by heartbeat: one gone quiet stops counting, one that leaves at once', async () => {
    await open();
    expect(await store.replicas.heartbeat('a', 1000, 15_000)).toBe(1);
    expect(await store.replicas.heartbeat('b', 2000, 15_000)).toBe(2);
    expect(await store.replicas.heartbeat('a', 6000, 15_000)).toBe(2);
    // b is not heard from again.
    expect(await store.replicas.heartbeat('a', 17_001, 15_000)).toBe(1);
    expect(await store.replicas.heartbeat('b', 18_000, 15_000)).toBe(2);
    await store.replicas.leave('b');
    expect(await store.replicas.heartbeat('a', 19_000, 15_000)).toBe(1);
  });

  it('dedupe keys are claimed once until they expire', async () => {
    await open();
    expect(await store.inbox.claim(['evt-1'], 1000, 60_000)).toBe(true);
    expect(await store.inbox.claim(['evt-1'], 2000, 60_000)).toBe(false);
    const both = await Promise.all([store.inbox.claim(['evt-2'], 1000, 10), store.inbox.claim(['evt-2'], 1000, 10)]);
    expect(both.filter(Boolean)).toHaveLength(1);
    expect(await store.inbox.claim(['evt-1'], 62_000, 60_000)).toBe(true);
    expect(await store.purgeExpired(200_000)).toBe(2);
  });

  it('a command is kept with its holder until answered; one left by a holder whose lease lapsed is taken over once', async () => {
    await open();
    const work = (owner: string, leaseUntil: number) => ({ payload: `{"from":"${owner}"}`, owner, leaseUntil });
    // Both ids of one delivery, or neither: a duplicate leaves nothing behind.
    expect(await store.inbox.claim(['msg-1', 'evt-1'], 1000, 60_000, work('a', 16_000))).toBe(true);
    expect(await store.inbox.claim(['msg-2', 'evt-1'], 1000, 60_000, work('a', 16_000))).toBe(false);
    expect(await store.inbox.claim(['msg-2'], 1000, 60_000)).toBe(true);
    // Held: nobody takes it over; renewed, still held.
    expect(await store.inbox.adopt('b', 10_000, 25_000, 10)).toEqual([]);
    await store.inbox.renew(['msg-1'], 'a', 30_000);
    expect(await store.inbox.adopt('b', 20_000, 35_000, 10)).toEqual([]);
    // a died: once its lease lapsed, one replica (of two asking at once) takes it over.
    const [x, y] = await Promise.all([store.inbox.adopt('b', 31_000, 46_000, 10), store.inbox.adopt('c', 31_000, 46_000, 10)]);
    expect([...x, ...y]).toEqual([{ key: 'msg-1', payload: '{"from":"a"}', attempts: 2 }]);
    // a comes back late: its renewal no longer holds what b took.
    await store.inbox.renew(['msg-1'], 'a', 60_000);
    expect(await store.inbox.adopt('c', 47_000, 62_000, 10)).toHaveLength(1);
    await store.inbox.answered('msg-1');
    expect(await store.inbox.adopt('d', 100_000, 115_000, 10)).toEqual([]);
    // Released at shutdown: taken over at once.
    await store.inbox.claim(['msg-3'], 1000, 60_000, work('e', 200_000));
    await store.inbox.release('e');
    expect((await store.inbox.adopt('f', 2000, 17_000, 10)).map((o) => o.key)).toEqual(['msg-3']);
  });

  it("a card's export is held by one holder at a time: let go when done, lapsed when its holder stops renewing (died)", async () => {
    await open();
    const k = 'export:feishu:om_1';
    // Two replicas pressed at once: one holds it.
    const both = await Promise.all([store.inbox.hold(k, 'a', 1000, 15_000), store.inbox.hold(k, 'b', 1000, 15_000)]);
    expect(both.filter(Boolean)).toHaveLength(1);
    const [holder, other] = both[0] ? ['a', 'b'] : ['b', 'a'];
    expect(await store.inbox.hold(k, other, 10_000, 15_000)).toBe(false);
    // Renewed while the file is made: still held past the first lease; nobody else renews it.
    expect(await store.inbox.renewHolds([k], holder, 30_000)).toEqual([k]);
    expect(await store.inbox.renewHolds([k], other, 30_000)).toEqual([]);
    expect(await store.inbox.hold(k, other, 20_000, 15_000)).toBe(false);
    // Done: let go (another's letting go changes nothing), and the next press holds it at once.
    await store.inbox.letGo(k, other);
    expect(await store.inbox.hold(k, other, 21_000, 15_000)).toBe(false);
    await store.inbox.letGo(k, holder);
    expect(await store.inbox.hold(k, 'c', 22_000, 15_000)).toBe(true);
    // c dies: not renewed, its hold lapses, and d holds it; c's late letting go leaves d's hold.
    expect(await store.inbox.hold(k, 'd', 36_000, 15_000)).toBe(false);
    expect(await store.inbox.hold(k, 'd', 37_001, 15_000)).toBe(true);
    expect(await store.inbox.renewHolds([k], 'c', 60_000)).toEqual([]);
    await store.inbox.letGo(k, 'c');
    expect(await store.inbox.hold(k, 'e', 40_000, 15_000)).toBe(false);
    // A hold is no command owed: nobody adopts it, a shutdown's release leaves it, and it goes with the expired keys.
    expect(await store.inbox.adopt('f', 100_000, 115_000, 10)).toEqual([]);
    await store.inbox.release('d');
    expect(await store.inbox.hold(k, 'e', 41_000, 15_000)).toBe(false);
    expect(await store.purgeExpired(100_000)).toBe(1);
  });

  it('an inline answer is committed once: a second press drawing the same card gives none', async () => {
    await open();
    await store.cards.add(card('feishu:om_1', 'feishu:drive:1'), task('feishu:drive:1'), false);
    await store.cards.transition('feishu:om_1', ['active'], 'stopped');
    const both = await Promise.all([
      store.cards.recordShown('feishu:om_1', 'stopped', 'h-stop', 10, 'news'),
      store.cards.recordShown('feishu:om_1', 'stopped', 'h-stop', 11, 'news'),
    ]);
    expect(both.filter(Boolean)).toHaveLength(1);
    expect(await store.cards.recordShown('feishu:om_1', 'stopped', 'h-stop', 12, 'news')).toBe(false);
    expect(await store.cards.recordShown('feishu:om_1', 'stopped', 'h-other', 13, 'news')).toBe(true);
    // A Refresh may answer with the card it already shows (nothing changed); a moved card may not.
    expect(await store.cards.recordShown('feishu:om_1', 'stopped', 'h-other', 14, 'still')).toBe(true);
    expect(await store.cards.recordShown('feishu:om_1', 'active', 'h-other', 15, 'still')).toBe(false);
  });

  it('people wait on active cards only; a finished card owes them a mention (the task stays pending) until it is marked sent', async () => {
    await open();
    await store.cards.add(card('feishu:om_1', 'feishu:drive:1'), task('feishu:drive:1'), false);
    await store.cards.add(card('feishu:om_2', 'feishu:drive:1'), task('feishu:drive:1'), false);
    expect(await store.subscribers.toggle('feishu:om_1', 'ou_a', 1)).toBe('on');
    expect(await store.subscribers.toggle('feishu:om_1', 'ou_b', 2)).toBe('on');
    expect(await store.subscribers.toggle('feishu:om_1', 'ou_b', 3)).toBe('off');
    expect(await store.subscribers.toggle('feishu:om_1', 'ou_b', 4, 'on')).toBe('on');
    expect(await store.subscribers.toggle('feishu:om_1', 'ou_b', 5, 'on')).toBe('on'); // 'on' never takes back
    expect(await store.subscribers.toggle('feishu:nope', 'ou_a', 5)).toBeUndefined();
    expect((await store.cards.get('feishu:om_1'))!.waiting).toBe(2);
    expect((await store.cards.get('feishu:om_2'))!.waiting).toBe(0);
    // The task ends and the card shows it: still pending, the mention is owed.
    await store.cards.transition('feishu:om_1', ['active'], 'done');
    await store.cards.transition('feishu:om_2', ['active'], 'done');
    await store.cards.recordShown('feishu:om_1', 'done', 'h', 10);
    await store.cards.recordShown('feishu:om_2', 'done', 'h', 10);
    expect(await store.subscribers.toggle('feishu:om_1', 'ou_c', 11)).toBeUndefined(); // nothing left to wait for
    expect((await store.tasks.get('feishu:drive:1'))!).toMatchObject({ active: 0, pending: 1 });
    expect((await store.cards.work('feishu:drive:1')).map((c) => c.card_key)).toEqual(['feishu:om_1']);
    expect((await store.subscribers.owed('feishu:om_1')).map((o) => o.userId)).toEqual(['ou_a', 'ou_b']);
    // Only the holder of the task's lease begins a mention; whoever comes after sees that it was begun.
    expect(await store.subscribers.beginMention('feishu:om_1', 'feishu:drive:1', 'holder', 11)).toEqual([]);
    await store.tasks.lease('feishu:drive:1', 'holder', 11, 100);
    expect((await store.subscribers.beginMention('feishu:om_1', 'feishu:drive:1', 'holder', 11)).sort()).toEqual(['ou_a', 'ou_b']);
    expect(await store.subscribers.beginMention('feishu:om_1', 'feishu:drive:1', 'holder', 11)).toEqual([]);
    await store.subscribers.forgetMention('feishu:om_1', ['ou_b']); // the platform said no to it: it may be tried again
    expect(await store.subscribers.owed('feishu:om_1')).toEqual([
      { userId: 'ou_a', begun: true },
      { userId: 'ou_b', begun: false },
    ]);
    await store.subscribers.markNotified('feishu:om_1', ['ou_a', 'ou_b'], 12);
    expect(await store.subscribers.owed('feishu:om_1')).toEqual([]);
    expect((await store.tasks.get('feishu:drive:1'))!).toMatchObject({ active: 0, pending: 0 });
    expect(await store.cards.work('feishu:drive:1')).toEqual([]);
    // Retention takes the subscribers with their cards.
    await store.retention.prune(1_000_000);
    expect(await store.db.selectFrom('subscribers').selectAll().execute()).toEqual([]);
  });

  it('chat settings: each field on its own, per chat', async () => {
    await open();
    const chat = { app: 'feishu', platform: 'feishu' as const, chatId: 'oc_1' };
    expect(await getChatSettings(store, chat)).toEqual({});
    await setChatSettings(store, chat, { locale: 'en' }, 1);
    await setChatSettings(store, chat, { notifyDefault: true }, 2);
    expect(await getChatSettings(store, chat)).toEqual({ locale: 'en', notifyDefault: true });
    await setChatSettings(store, chat, { notifyDefault: false }, 3);
    expect(await getChatSettings(store, chat)).toEqual({ locale: 'en', notifyDefault: false });
    expect(await getChatSettings(store, { app: 'dingtalk', platform: 'dingtalk', chatId: 'oc_1' })).toEqual({});
  });

  it('idempotency keys: one request wins, a retry gets its answer, another body is a conflict, a released key is free', async () => {
    await open();
    const claim = (key: string, body: string, now: number, owner = 'a') => claimRequest(store, key, body, now, owner, now + 15_000);
    const both = await Promise.all([claim('k1', 'b1', 0), claim('k1', 'b1', 0, 'b')]);
    expect(both.map((c) => c.kind).sort()).toEqual(['new', 'working']);
    await answerRequest(store, 'k1', 201, { cardKey: 'feishu:om_1' });
    expect(await claim('k1', 'b1', 10)).toEqual({ kind: 'answered', status: 201, body: { cardKey: 'feishu:om_1' } });
    expect(await claim('k1', 'b2', 10)).toEqual({ kind: 'conflict' });
    expect(await claim('k2', 'b1', 10)).toEqual({ kind: 'new' });
    await releaseRequest(store, 'k2', 'someone else');
    expect(await claim('k2', 'b1', 10)).toEqual({ kind: 'working' }); // only its holder lets it go
    await releaseRequest(store, 'k2', 'a');
    expect(await claim('k2', 'b1', 10)).toEqual({ kind: 'new' });
    // Expired keys are claimable again and swept.
    expect(await claim('k1', 'b2', IDEMPOTENCY_TTL_MS + 1)).toEqual({ kind: 'new' });
    expect(await store.purgeExpired(3 * IDEMPOTENCY_TTL_MS)).toBe(2);
  });

  it('idempotency keys are leased: a request cut off unanswered leaves its key to a retry once the lease lapsed (or at once when let go)', async () => {
    await open();
    expect(await claimRequest(store, 'k', 'b', 0, 'a', 15_000)).toEqual({ kind: 'new' });
    await renewRequests(store, ['k'], 'a', 30_000);
    expect(await claimRequest(store, 'k', 'b', 20_000, 'b', 35_000)).toEqual({ kind: 'working' });
    // a died: the same request, retried after its lease, is worked again; another body is still refused.
    expect(await claimRequest(store, 'k', 'other', 31_000, 'b', 46_000)).toEqual({ kind: 'conflict' });
    expect(await claimRequest(store, 'k', 'b', 31_000, 'b', 46_000)).toEqual({ kind: 'new' });
    // b is stopped with it unanswered: it lets go, and a retry takes it at once.
    await abandonRequests(store, ['k'], 'b');
    expect(await claimRequest(store, 'k', 'b', 32_000, 'c', 47_000)).toEqual({ kind: 'new' });
  });

  it('leases due tasks to one owner at a time and lets a lapsed lease be taken over', async () => {
    await open();
    for (let i = 0; i < 5; i++) await store.cards.add(card(`feishu:om_${i}`, `feishu:drive:${i}`), task(`feishu:drive:${i}`, { next_due_at: 1000 + i }), false);
    await store.cards.add(card('feishu:om_x', 'feishu:drive:99'), task('feishu:drive:99', { next_due_at: 99_999 }), false);
    const [a, b] = await Promise.all([store.tasks.claimDue('A', 5000, 20_000, 3), store.tasks.claimDue('B', 5000, 20_000, 3)]);
    const keys = [...a, ...b].map((t) => t.task_key);
    expect(keys).toHaveLength(5);
    expect(new Set(keys).size).toBe(5);
    expect(await store.tasks.claimDue('C', 6000, 21_000, 10)).toEqual([]);
    // The leases lapse: C takes the tasks over; A can no longer complete them.
    const taken = await store.tasks.claimDue('C', 20_001, 40_000, 10);
    expect(taken.map((t) => t.task_key).sort()).toEqual([...keys].sort());
    const firstOfA = a[0] ?? b[0]!;
    const ownerOfFirst = a[0] ? 'A' : 'B';
    expect(await store.tasks.complete(firstOfA.task_key, ownerOfFirst, 20_001, { next_due_at: 1 })).toBe(false);
    expect(await store.tasks.complete(firstOfA.task_key, 'C', 20_001, { next_due_at: 50_000, snapshot_hash: 'h1' })).toBe(true);
    expect(await store.tasks.get(firstOfA.task_key)).toMatchObject({ lease_owner: null, next_due_at: 50_000, snapshot_hash: 'h1' });
  });

  it('renews and releases leases', async () => {
    await open();
    await store.cards.add(card('feishu:om_1', 'feishu:drive:1'), task('feishu:drive:1'), false);
    await store.tasks.claimDue('A', 1000, 2000, 10);
    expect(await store.tasks.renew(['feishu:drive:1', 'feishu:drive:nope'], 'A', 9000)).toEqual(['feishu:drive:1']);
    expect(await store.tasks.claimDue('B', 5000, 6000, 10)).toEqual([]);
    expect(await store.tasks.renew(['feishu:drive:1'], 'B', 9000)).toEqual([]); // not B's to renew
    await store.tasks.release('A');
    expect(await store.tasks.claimDue('B', 5000, 6000, 10)).toHaveLength(1);
  });

  it('a task whose owed writes wait in the queue of a replica that went quiet is due at once; one whose replica is alive waits', async () => {
    await open();
    await store.cards.add(card('feishu:om_1', 'feishu:drive:1'), task('feishu:drive:1'), false);
    await store.cards.add(card('feishu:om_2', 'feishu:drive:2'), task('feishu:drive:2'), false);
    for (const [key, holder] of [
      ['feishu:drive:1', 'dead'],
      ['feishu:drive:2', 'alive'],
    ] as const) {
      await store.tasks.lease(key, holder, 1000, 16_000);
      await store.tasks.complete(key, holder, 2000, { next_due_at: 32_000, held_by: holder });
    }
    await store.replicas.heartbeat('dead', 2000, 10_000);
    await store.replicas.heartbeat('alive', 14_000, 10_000);
    expect(await store.tasks.takeOverQueued(14_000, 10_000)).toBe(1);
    expect(await store.tasks.get('feishu:drive:1')).toMatchObject({ next_due_at: 14_000, held_by: null });
    expect(await store.tasks.get('feishu:drive:2')).toMatchObject({ next_due_at: 32_000, held_by: 'alive' });
    expect((await store.tasks.claimDue('alive', 14_000, 29_000, 10)).map((t) => t.task_key)).toEqual(['feishu:drive:1']);
  });

  it("queued finals are counted per app and holder; another replica takes over the last-queued, never one being worked, still watched, sent already, or another app's", async () => {
    await open();
    const held = async (key: string, holder: string, due: number, o: { ended?: boolean; app?: string } = {}) => {
      await store.cards.add(card(`${key}:c`, key, { app: o.app ?? 'feishu' }), task(key, { app: o.app ?? 'feishu' }), false);
      if (o.ended !== false) await store.cards.transition(`${key}:c`, ['active'], 'done');
      await store.tasks.lease(key, holder, 1000, 16_000);
      await store.tasks.complete(key, holder, 2000, { next_due_at: due, held_by: holder });
    };
    for (let i = 1; i <= 7; i++) await held(`feishu:drive:a${i}`, 'A', 30_000 + i);
    await held('feishu:drive:b1', 'B', 30_000);
    await held('feishu:drive:live', 'A', 40_000, { ended: false });
    await held('lark:drive:a9', 'A', 40_000, { app: 'lark' });
    // A has sent this one's final already (held_by stays until its re-check): nothing to take.
    await held('feishu:drive:sent', 'A', 50_000);
    await store.cards.recordShown('feishu:drive:sent:c', 'done', 'h', 2500);
    // A is sending a7 right now.
    await store.tasks.lease('feishu:drive:a7', 'A', 3000, 18_000);
    // Counted: ended tasks whose finals are still owed, per app and holder.
    const count = async () => (await store.tasks.queuedFinals()).sort((x, y) => `${x.app}${x.holder}`.localeCompare(`${y.app}${y.holder}`));
    expect(await count()).toEqual([
      { app: 'feishu', holder: 'A', tasks: 7 },
      { app: 'feishu', holder: 'B', tasks: 1 },
      { app: 'lark', holder: 'A', tasks: 1 },
    ]);
    // B takes three of A's: the last A queued, skipping a7 (being worked) and the one A sent.
    const taken = await store.tasks.adoptQueued('feishu', 'A', 'B', 3000, 18_000, 3);
    expect(taken.map((t) => t.task_key).sort()).toEqual(['feishu:drive:a4', 'feishu:drive:a5', 'feishu:drive:a6']);
    for (const t of taken) expect(t).toMatchObject({ held_by: 'B', lease_owner: 'B', lease_until: 18_000 });
    expect(await store.tasks.get('feishu:drive:a7')).toMatchObject({ held_by: 'A', lease_owner: 'A' });
    expect(await store.tasks.get('feishu:drive:live')).toMatchObject({ held_by: 'A' });
    expect(await store.tasks.get('lark:drive:a9')).toMatchObject({ held_by: 'A' });
    expect(await store.tasks.get('feishu:drive:sent')).toMatchObject({ held_by: 'A', pending: 0 });
    expect((await count()).filter((c) => c.app === 'feishu').map((c) => c.tasks)).toEqual([4, 4]);
    // Nothing of a holder that has none left to take.
    expect(await store.tasks.adoptQueued('feishu', 'nobody', 'B', 3000, 18_000, 3)).toEqual([]);
  });

  it('keeps one task row for many cards and wakes an idle task with a new window', async () => {
    await open();
    await store.cards.add(card('feishu:om_1', 'feishu:drive:1'), task('feishu:drive:1', { created_at: 10 }), false);
    await store.cards.add(card('feishu:om_2', 'feishu:drive:1', { chat_id: 'oc_2' }), task('feishu:drive:1', { created_at: 20, snapshot_hash: 'new' }), false);
    expect(await store.tasks.get('feishu:drive:1')).toMatchObject({ created_at: 10, snapshot_hash: 'h0', active: 1 });
    expect(await store.cards.work('feishu:drive:1')).toHaveLength(2);
    await store.cards.transition('feishu:om_1', ['active'], 'stopped');
    expect(await store.tasks.get('feishu:drive:1')).toMatchObject({ active: 1, pending: 1 });
    await store.cards.transition('feishu:om_2', ['active'], 'stopped');
    expect(await store.tasks.get('feishu:drive:1')).toMatchObject({ active: 0, pending: 1 });
    await store.cards.recordShown('feishu:om_1', 'stopped', 'x', 1);
    await store.cards.recordShown('feishu:om_2', 'stopped', 'y', 1);
    expect(await store.tasks.get('feishu:drive:1')).toMatchObject({ active: 0, pending: 0 });
    await store.cards.add(card('feishu:om_3', 'feishu:drive:1'), task('feishu:drive:1', { created_at: 30, snapshot_hash: 'h3' }), false);
    expect(await store.tasks.get('feishu:drive:1')).toMatchObject({ active: 1, created_at: 30, snapshot_hash: 'h3' });
  });

  it('moves a card only from the status the writer expects, and says who won', async () => {
    await open();
    await store.cards.add(card('feishu:om_1', 'feishu:drive:1'), task('feishu:drive:1'), false);
    const [a, b] = await Promise.all([store.cards.transition('feishu:om_1', ['active'], 'stopped'), store.cards.transition('feishu:om_1', ['active'], 'done')]);
    expect([a, b].filter(Boolean)).toHaveLength(1);
    const winner = (a ?? b)!.status;
    expect((await store.cards.get('feishu:om_1'))!.status).toBe(winner);
    // A rendering is recorded only for the status it was drawn for.
    expect(await store.cards.recordShown('feishu:om_1', 'active', 'h', 5)).toBe(false);
    expect(await store.cards.recordShown('feishu:om_1', winner, 'h', 5)).toBe(true);
    expect(await store.cards.transition('feishu:om_404', ['active'], 'stopped')).toBeUndefined();
  });

  it('a task with two cards ended at once by two writers is left inactive (the task row serialises them)', async () => {
    await open();
    for (let round = 0; round < 20; round++) {
      const tk = `feishu:drive:r${round}`;
      await store.cards.add(card(`feishu:a${round}`, tk), task(tk), false);
      await store.cards.add(card(`feishu:b${round}`, tk), task(tk), false);
      await Promise.all([store.cards.transition(`feishu:a${round}`, ['active'], 'stopped'), store.cards.transition(`feishu:b${round}`, ['active'], 'done')]);
      expect((await store.tasks.get(tk))!.active).toBe(0);
    }
  });

  it('a poke during a round makes the task due as soon as the round ends', async () => {
    await open();
    await store.cards.add(card('feishu:om_1', 'feishu:drive:1'), task('feishu:drive:1', { next_due_at: 0 }), false);
    const [t] = await store.tasks.claimDue('A', 100, 10_000, 1);
    expect(t).toBeDefined();
    expect(await store.tasks.lease('feishu:drive:1', 'B', 200, 10_000)).toBeUndefined();
    await store.tasks.poke('feishu:drive:1', 200);
    await store.tasks.complete('feishu:drive:1', 'A', 300, { next_due_at: 60_000 });
    expect((await store.tasks.get('feishu:drive:1'))!.next_due_at).toBe(300);
    await store.tasks.complete('feishu:drive:1', 'nobody', 400, { next_due_at: 60_000 });
    const [again] = await store.tasks.claimDue('A', 400, 10_000, 1);
    await store.tasks.complete(again!.task_key, 'A', 400, { next_due_at: 60_000 });
    expect((await store.tasks.get('feishu:drive:1'))!.next_due_at).toBe(60_000);
  });

  it('prunes ended cards past retention and the tasks no card shows any more; active cards and their tasks stay', async () => {
    await open();
    const day = 86_400_000;
    await store.cards.add(card('feishu:old_done', 'feishu:drive:1', { created_at: 1 * day, status: 'done' }), task('feishu:drive:1'), true);
    await store.cards.add(card('feishu:old_active', 'feishu:drive:2', { created_at: 1 * day }), task('feishu:drive:2'), false);
    await store.cards.add(card('feishu:old_stopped', 'feishu:drive:3', { created_at: 1 * day }), task('feishu:drive:3'), false);
    await store.cards.add(card('feishu:new_stopped', 'feishu:drive:3', { created_at: 40 * day }), task('feishu:drive:3'), false);
    await store.cards.transition('feishu:old_stopped', ['active'], 'stopped');
    await store.cards.transition('feishu:new_stopped', ['active'], 'stopped');
    for (const k of ['feishu:old_done', 'feishu:old_stopped', 'feishu:new_stopped'])
      await store.cards.recordShown(k, (await store.cards.get(k))!.status, 'h', 2 * day);
    // Form deliveries go with them: a submission of a form that old is refused (send help again).
    for (const [k, at] of [
      ['dingtalk:old_form', 1 * day],
      ['dingtalk:new_form', 40 * day],
    ] as const) {
      await store.forms.add({ form_key: k, app: 'dingtalk', platform: 'dingtalk', chat_id: 'cidA==', for_user: null, created_at: at });
    }
    expect(await store.retention.prune(35 * day)).toEqual({ cards: 2, tasks: 1, forms: 1 });
    expect(await store.forms.get('dingtalk:old_form')).toBeUndefined();
    expect(await store.forms.get('dingtalk:new_form')).toMatchObject({ chat_id: 'cidA==', for_user: null });
    expect(await store.cards.get('feishu:old_done')).toBeUndefined();
    expect(await store.tasks.get('feishu:drive:1')).toBeUndefined();
    expect(await store.cards.get('feishu:old_active')).toBeDefined();
    expect(await store.tasks.get('feishu:drive:3')).toBeDefined(); // a newer card still shows it
    expect(await store.retention.prune(35 * day)).toEqual({ cards: 0, tasks: 0, forms: 0 });
  });

  it('retention never drops work an ended card still owes (its last rendering, mentions, an unpin), and recomputes the flags of tasks it leaves without cards', async () => {
    await open();
    const day = 86_400_000;
    const old = { created_at: 1 * day };
    // Each old card ended and owes one thing: the rendering of its end, a mention, its unpinning.
    for (const [k, t] of [
      ['feishu:render', 'feishu:drive:1'],
      ['feishu:mention', 'feishu:drive:2'],
      ['feishu:unpin', 'feishu:drive:3'],
    ] as const)
      await store.cards.add(card(k, t, old), task(t), false);
    await store.subscribers.toggle('feishu:mention', 'ou_a', 2 * day);
    await store.cards.recordPinned('feishu:unpin', 1);
    for (const k of ['feishu:render', 'feishu:mention', 'feishu:unpin']) await store.cards.transition(k, ['active'], 'done');
    for (const k of ['feishu:mention', 'feishu:unpin']) await store.cards.recordShown(k, 'done', 'h', 2 * day);
    const pending = async () =>
      (await store.db.selectFrom('tasks').select(['task_key', 'pending']).orderBy('task_key').execute()).map((t) => `${t.task_key}=${t.pending}`);
    expect(await pending()).toEqual(['feishu:drive:1=1', 'feishu:drive:2=1', 'feishu:drive:3=1']);
    expect(await store.retention.prune(35 * day)).toEqual({ cards: 0, tasks: 0, forms: 0 });
    expect(await store.subscribers.owed('feishu:mention')).toEqual([{ userId: 'ou_a', begun: false }]);
    expect((await store.tasks.claimDue('A', 40 * day, 41 * day, 10)).map((t) => t.task_key).sort()).toEqual([
      'feishu:drive:1',
      'feishu:drive:2',
      'feishu:drive:3',
    ]);
    // Each owed thing done: the next sweep takes them, and no task is left pending without a card.
    await store.cards.recordShown('feishu:render', 'done', 'h', 3 * day);
    await store.subscribers.markNotified('feishu:mention', ['ou_a'], 3 * day);
    await store.cards.recordPinned('feishu:unpin', 0);
    expect(await store.retention.prune(35 * day)).toEqual({ cards: 3, tasks: 3, forms: 0 });
    // A task a card-less past left pending (as earlier releases' retention did) is recomputed and goes.
    await store.cards.add(card('feishu:gone', 'feishu:drive:4', old), task('feishu:drive:4'), false);
    await store.db.deleteFrom('cards').where('card_key', '=', 'feishu:gone').execute();
    await store.db.updateTable('tasks').set({ active: 1, pending: 1 }).where('task_key', '=', 'feishu:drive:4').execute();
    expect(await store.retention.prune(35 * day)).toEqual({ cards: 0, tasks: 1, forms: 0 });
    expect(await store.tasks.claimDue('A', 40 * day, 41 * day, 10)).toEqual([]);
  });

  it("a chat's overview holds every active card however many ended ones came after it, the newest ended ones, and counts its tasks", async () => {
    await open();
    await store.cards.add(card('feishu:active_old', 'feishu:drive:x', { created_at: 1, asked_by: 'ou_a' }), task('feishu:drive:x'), false);
    for (let i = 0; i < 300; i++)
      await store.cards.add(
        card(`feishu:c${i}`, `feishu:drive:${i}`, { created_at: 1000 + i, status: 'done', asked_by: i % 2 ? 'ou_a' : 'ou_b' }),
        task(`feishu:drive:${i}`),
        true,
      );
    await store.cards.add(card('feishu:elsewhere', 'feishu:drive:y', { chat_id: 'oc_2', created_at: 5000, asked_by: 'ou_a' }), task('feishu:drive:y'), false);
    await store.cards.add(
      card('dingtalk:same_chat_id', 'dingtalk:doc:z', { platform: 'dingtalk', created_at: 5000 }),
      task('dingtalk:doc:z', { platform: 'dingtalk', kind: 'doc' }),
      false,
    );

    const all = await store.cards.overview({ app: 'feishu', chatId: 'oc_1', endedLimit: 20 });
    expect(all.cards.map((r) => r.card_key)).toEqual(['feishu:active_old', ...Array.from({ length: 20 }, (_, i) => `feishu:c${299 - i}`)]);
    expect(all.tasks).toBe(301);
    expect(all.cards[0]).toMatchObject({ snapshot: expect.any(String), status: 'active' });
    // A digest's period: what ended since, and the active card whatever its age.
    const since = await store.cards.overview({ app: 'feishu', chatId: 'oc_1', since: 1290, endedLimit: 500 });
    expect(since.cards.map((r) => r.card_key)).toEqual(['feishu:active_old', ...Array.from({ length: 10 }, (_, i) => `feishu:c${299 - i}`)]);
    expect(since.tasks).toBe(11);
    // One person's, in one chat or in every chat of the platform.
    const mine = await store.cards.overview({ app: 'feishu', askedBy: 'ou_a', endedLimit: 3 });
    expect(mine.cards.map((r) => r.card_key)).toEqual(['feishu:elsewhere', 'feishu:active_old', 'feishu:c299', 'feishu:c297', 'feishu:c295']);
    expect(mine.tasks).toBe(152);
    expect((await store.cards.overview({ app: 'feishu', askedBy: 'ou_a', chatId: 'oc_1', endedLimit: 1 })).cards.map((r) => r.card_key)).toEqual([
      'feishu:active_old',
      'feishu:c299',
    ]);

    // `stop <id>`: the chat's active cards of that task only, by its id (and kind).
    expect((await store.cards.activeOfTask('feishu', 'oc_1', 'x')).map((r) => r.card_key)).toEqual(['feishu:active_old']);
    expect(await store.cards.activeOfTask('feishu', 'oc_1', 'x', 'contact')).toEqual([]);
    expect(await store.cards.activeOfTask('feishu', 'oc_1', '299')).toEqual([]); // ended
    expect(await store.cards.activeOfTask('feishu', 'oc_1', 'y')).toEqual([]); // another chat's
  });

  it('stores digests, claims due ones with a lease, and records firings', async () => {
    await open();
    const d = {
      chat_key: 'feishu:oc_1',
      app: 'feishu',
      platform: 'feishu',
      chat_id: 'oc_1',
      cron: '0 9 * * *',
      time_zone: 'Asia/Shanghai',
      locale: 'zh',
      spec: 'daily 09:00',
      last_fired_at: null,
      next_fire_at: 5000,
      created_at: 0,
    };
    await store.digests.upsert(d);
    await store.digests.upsert({ ...d, cron: '30 18 * * 1-5', spec: 'weekdays 18:30' });
    expect(await store.digests.get('feishu:oc_1')).toMatchObject({ cron: '30 18 * * 1-5', spec: 'weekdays 18:30' });
    expect(await store.digests.claimDue('A', 4999, 9000)).toEqual([]);
    const [a, b] = await Promise.all([store.digests.claimDue('A', 5000, 9000), store.digests.claimDue('B', 5000, 9000)]);
    expect(a.length + b.length).toBe(1);
    const owner = a.length ? 'A' : 'B';
    expect(await store.digests.complete('feishu:oc_1', owner === 'A' ? 'B' : 'A', 5000, 90_000, 5001)).toBe(false);
    expect(await store.digests.complete('feishu:oc_1', owner, 5000, 90_000, 5001)).toBe(true);
    expect(await store.digests.get('feishu:oc_1')).toMatchObject({ last_fired_at: 5000, next_fire_at: 90_000, planned_at: 5001, lease_owner: null });
    expect(await store.digests.delete('feishu:oc_1')).toBe(true);
    expect(await store.digests.delete('feishu:oc_1')).toBe(false);
  });

  it('claims a digest planned at a time still ahead of now (the clock went back) once, to plan it again; not one planned before now or never', async () => {
    await open();
    const d = {
      app: 'feishu',
      platform: 'feishu',
      cron: '0 9 * * *',
      time_zone: 'Asia/Shanghai',
      locale: 'zh',
      spec: 'daily 09:00',
      last_fired_at: null,
      next_fire_at: 90_000,
      created_at: 0,
    };
    await store.digests.upsert({ ...d, chat_key: 'feishu:ahead', chat_id: 'ahead', planned_at: 10_000 });
    await store.digests.upsert({ ...d, chat_key: 'feishu:before', chat_id: 'before', planned_at: 4000 });
    await store.digests.upsert({ ...d, chat_key: 'feishu:never', chat_id: 'never' });
    expect(await store.digests.get('feishu:never')).toMatchObject({ planned_at: null });
    const [a, b] = await Promise.all([store.digests.claimDue('A', 5000, 9000), store.digests.claimDue('B', 5000, 9000)]);
    expect([...a, ...b].map((r) => r.chat_key)).toEqual(['feishu:ahead']);
    const owner = a.length ? 'A' : 'B';
    await store.digests.replan('feishu:ahead', owner, 30_000, 5000);
    expect(await store.digests.get('feishu:ahead')).toMatchObject({ next_fire_at: 30_000, planned_at: 5000, lease_owner: null, lease_until: null });
    expect(await store.digests.claimDue('A', 5001, 9000)).toEqual([]);
    expect((await store.digests.claimDue('A', 30_000, 39_000)).map((r) => r.chat_key)).toEqual(['feishu:ahead']);
  });
});

describe.runIf(process.env.TEST_DATABASE_URL)('PostgreSQL connections cut under the store', () => {
  it('a connection cut mid-transaction fails that transaction, not the process', async () => {
    const { store } = await freshStore('postgres');
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    try {
      const tx = store.db.transaction().execute(async (t) => {
        const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(t);
        await admin.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
        // The cut reaches the checked-out client while it waits here.
        await new Promise((r) => setTimeout(r, 300));
        await sql`select 1`.execute(t);
      });
      await expect(tx).rejects.toThrow();
      await store.ping(); // a fresh connection serves the next query
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      await admin.end();
      await store.close();
    }
  });
});

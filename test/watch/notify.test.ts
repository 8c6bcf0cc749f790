import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { taskCard } from '../../src/cards/task-card.js';
import { cardKey, type CardHandle } from '../../src/domain/chat.js';
import { ManualClock } from '../../src/domain/clock.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { WatchEngine } from '../../src/watch/engine.js';
import { RecordingMessenger } from '../helpers/recording-messenger.js';
import { ScriptedTasks } from '../helpers/scripted-tasks.js';
import { freshStoreUrl, STORE_KINDS } from '../helpers/stores.js';
import { round } from '../helpers/round.js';

const TZ = 'Asia/Shanghai';

describe.each(STORE_KINDS)('notify me when done (%s)', (kind) => {
  let stores: Store[];
  let clock: ManualClock;
  let tasks: ScriptedTasks;
  let messenger: RecordingMessenger;
  let engines: WatchEngine[];

  const engineOn = (store: Store) => new WatchEngine({ store, tasks, messengers: { feishu: messenger }, timeZone: TZ, clock, options: { leaseMs: 15_000 } });

  beforeEach(async () => {
    const url = await freshStoreUrl(kind);
    // Two replicas: two stores (two connection pools on PostgreSQL) over one database.
    stores = kind === 'postgres' ? [await openStore(url), await openStore(url)] : [await openStore(url)];
    clock = new ManualClock(Date.UTC(2026, 10, 22, 2));
    tasks = new ScriptedTasks();
    messenger = new RecordingMessenger('feishu', () => clock.now());
    engines = stores.map(engineOn);
  });
  afterEach(async () => {
    for (const e of engines) await e.stop();
    for (const s of stores) await s.close();
  });

  async function show(id: string, chatId = 'oc_1'): Promise<CardHandle> {
    const snap = tasks.snapshot(id);
    const model = taskCard(snap, { locale: 'en', timeZone: TZ, mode: 'live' });
    const handle = await messenger.send({ app: 'feishu', platform: 'feishu', chatId }, model);
    await engines[0]!.cards.track(handle, snap, 'en', model);
    return handle;
  }
  const tickAll = () => Promise.all(engines.map((e) => round(e)));

  it('the button toggles, the card counts who waits (never names them), and the end mentions them once', async () => {
    tasks.set('1', 'running', 10);
    const h = await show('1');
    const on = await engines[0]!.cards.toggleNotify(cardKey(h), 'ou_alice', { inline: true });
    expect(on.status).toBe('on');
    const drawn = on.status === 'on' && on.card ? JSON.stringify(on.card) : '';
    expect(drawn).toContain('1 waiting to be notified');
    expect(drawn).not.toContain('ou_alice');
    await clock.advance(1000);
    expect((await engines[0]!.cards.toggleNotify(cardKey(h), 'ou_bob', { inline: true })).status).toBe('on');
    await clock.advance(1000);
    const off = await engines[0]!.cards.toggleNotify(cardKey(h), 'ou_bob', { inline: false });
    expect(off).toEqual({ status: 'off' });
    expect(
      messenger
        .updatesOf(h.handle)
        .at(-1)!
        .blocks.some((b) => b.type === 'text' && b.text === '1 waiting to be notified'),
    ).toBe(true);

    tasks.set('1', 'partial', 90);
    await clock.advance(5000);
    await tickAll();
    expect(messenger.mentions).toHaveLength(1);
    expect(messenger.mentions[0]).toMatchObject({ card: h.handle, chatId: 'oc_1', userIds: ['ou_alice'] });
    expect(messenger.mentions[0]!.text).toContain('Partly failed');
    expect(messenger.mentions[0]!.text).toContain('90/100');
    // Nothing more is owed: further rounds mention no one and the task is idle.
    for (let i = 0; i < 5; i++) {
      await clock.advance(60_000);
      await tickAll();
    }
    expect(messenger.mentions).toHaveLength(1);
    expect((await stores[0]!.tasks.get('feishu:contact:1'))!).toMatchObject({ active: 0, pending: 0 });
    // The finished card has nothing left to wait for.
    expect(await engines[0]!.cards.toggleNotify(cardKey(h), 'ou_carol', { inline: true })).toEqual({ status: 'ended' });
  });

  it('a stopped card is not watched: Notify me says to press Refresh first; an unknown card says so', async () => {
    tasks.set('2', 'running', 10);
    const h = await show('2');
    await engines[0]!.cards.stopCard(cardKey(h), { inline: false });
    expect(await engines[0]!.cards.toggleNotify(cardKey(h), 'ou_alice', { inline: true })).toEqual({ status: 'inactive' });
    expect(await engines[0]!.cards.toggleNotify('feishu:om_nope', 'ou_alice', { inline: true })).toEqual({ status: 'unknown' });
  });

  it('two replicas racing for the finished task mention each person exactly once', async () => {
    for (const id of ['3', '4', '5']) {
      tasks.set(id, 'running', 10);
      const h = await show(id, `oc_${id}`);
      await engines[0]!.cards.subscribe(cardKey(h), 'ou_alice');
      await engines[engines.length - 1]!.cards.subscribe(cardKey(h), 'ou_bob');
      tasks.set(id, 'succeeded', 100);
    }
    await clock.advance(5000);
    for (let i = 0; i < 4; i++) {
      await tickAll();
      await clock.advance(16_000);
    }
    expect(messenger.mentions.map((m) => `${m.chatId}:${m.userIds.join(',')}`).sort()).toEqual([
      'oc_3:ou_alice,ou_bob',
      'oc_4:ou_alice,ou_bob',
      'oc_5:ou_alice,ou_bob',
    ]);
  });

  it('waiting survives a restart, and a crash between the mention and its record repeats it with the same key (the platform dedupes)', async () => {
    tasks.set('6', 'running', 10);
    const h = await show('6');
    await engines[0]!.cards.subscribe(cardKey(h), 'ou_alice');
    // A restart: new engines (and stores) over the same database.
    await engines[0]!.stop();
    engines = stores.map(engineOn);
    tasks.set('6', 'succeeded', 100);
    const mark = stores[0]!.subscribers.markNotified.bind(stores[0]!.subscribers);
    let crash = true;
    stores[0]!.subscribers.markNotified = async (...a) => {
      if (crash) {
        crash = false;
        throw new Error('process died');
      }
      return mark(...a);
    };
    await clock.advance(5000);
    await round(engines[0]!); // mentions, then dies before recording it: the lease is left behind
    expect(messenger.mentions).toHaveLength(1);
    await clock.advance(16_000); // the lease lapses
    await round(engines[0]!);
    expect(messenger.mentions).toHaveLength(2);
    expect(messenger.mentions[1]!.key).toBe(messenger.mentions[0]!.key);
    await clock.advance(60_000);
    await round(engines[0]!);
    expect(messenger.mentions).toHaveLength(2);
  });

  it('a failing mention backs off with the card and is sent once when it works', async () => {
    tasks.set('7', 'running', 10);
    const h = await show('7');
    await engines[0]!.cards.subscribe(cardKey(h), 'ou_alice');
    tasks.set('7', 'succeeded', 100);
    messenger.failNextMentions = 3;
    for (let i = 0; i < 40; i++) {
      await clock.advance(1000);
      await round(engines[0]!);
    }
    expect(messenger.mentions).toHaveLength(1);
    expect(messenger.updatesOf(h.handle).at(-1)!.final).toBe(true);
    expect((await stores[0]!.tasks.get('feishu:contact:7'))!).toMatchObject({ pending: 0 });
  });

  it('people waiting on an older card are told when someone asks for the finished task again', async () => {
    tasks.set('8', 'running', 10);
    const older = await show('8', 'oc_a');
    await engines[0]!.cards.subscribe(cardKey(older), 'ou_alice');
    tasks.set('8', 'succeeded', 100);
    await show('8', 'oc_b'); // a final card: the news for the older one
    await round(engines[0]!);
    // The older card was drawn this second: its final state goes out when the second is up, then the mention.
    expect(messenger.mentions).toEqual([]);
    await clock.advance(1000);
    await round(engines[0]!);
    expect(messenger.updatesOf(older.handle).at(-1)!.final).toBe(true);
    expect(messenger.mentions).toEqual([expect.objectContaining({ card: older.handle, userIds: ['ou_alice'] })]);
  });

  it("an owed id that is not of the platform's shape is never mentioned, and never owed forever", async () => {
    tasks.set('11', 'running', 10);
    const h = await show('11');
    await stores[0]!.subscribers.toggle(cardKey(h), 'ou_x"></at><at user_id="all', clock.now()); // only reachable past every boundary check
    await engines[0]!.cards.subscribe(cardKey(h), 'ou_alice');
    tasks.set('11', 'succeeded', 100);
    await clock.advance(5000);
    await round(engines[0]!);
    expect(messenger.mentions.map((m) => m.userIds)).toEqual([['ou_alice']]);
    expect(await stores[0]!.subscribers.owed(cardKey(h))).toEqual([]);
    expect((await stores[0]!.tasks.get('feishu:contact:11'))!).toMatchObject({ pending: 0 });
  });
});

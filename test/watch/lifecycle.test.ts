import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cardKey, type CardHandle } from '../../src/domain/chat.js';
import type { ManualClock } from '../../src/domain/clock.js';
import { INTEREST_MS, type Store } from '../../src/store/store.js';
import type { WatchEngine } from '../../src/watch/engine.js';
import { engineRig, type EngineRig } from '../helpers/engine-rig.js';
import { latch } from '../helpers/latch.js';
import type { RecordingMessenger } from '../helpers/recording-messenger.js';
import { round } from '../helpers/round.js';
import type { ScriptedTasks } from '../helpers/scripted-tasks.js';
import { STORE_KINDS } from '../helpers/stores.js';

describe.each(STORE_KINDS)('card lifecycle (%s)', (kind) => {
  let rig: EngineRig;
  let store: Store;
  let clock: ManualClock;
  let tasks: ScriptedTasks;
  let messenger: RecordingMessenger;
  let engine: WatchEngine;

  beforeEach(async () => {
    rig = await engineRig(kind);
    ({ store, clock, tasks, messenger, engine } = rig);
  });
  afterEach(() => rig.close());

  const show = (id: string, chatId = 'oc_1'): Promise<CardHandle> => rig.show(id, chatId, engine);
  const last = (h: CardHandle) => messenger.updatesOf(h.handle).at(-1);
  const status = async (h: CardHandle) => (await store.cards.get(cardKey(h)))!.status;

  it('a Refresh by someone who may not resume never restarts a stopped card, whenever the Stop lands (asked only when it is stopped)', async () => {
    tasks.set('1', 'running', 10);
    const a = await show('1');
    let asked = 0;
    const noResume = { inline: true, mayResume: async () => (asked++, false) };
    // Live: refreshed as usual, nobody asked.
    expect(await engine.cards.refresh(cardKey(a), noResume)).toMatchObject({ status: 'fresh' });
    expect(asked).toBe(0);
    await engine.cards.stopCard(cardKey(a), { inline: false });
    const peek = await engine.cards.refresh(cardKey(a), noResume);
    expect(peek).toMatchObject({ status: 'fresh', peeked: true });
    expect(asked).toBe(1);
    expect(await status(a)).toBe('stopped');
    // A Stop and such a Refresh at once, either order: the card ends stopped every time.
    for (let i = 0; i < 10; i++) {
      tasks.set(`r${i}`, 'running', 10);
      const h = await show(`r${i}`);
      await clock.advance(1000);
      const both = [engine.cards.stopCard(cardKey(h), { inline: false }), engine.cards.refresh(cardKey(h), noResume)];
      await Promise.all(i % 2 ? both.reverse() : both);
      expect(await status(h)).toBe('stopped');
    }
    // Who may resume it does.
    expect(await engine.cards.refresh(cardKey(a), { inline: true, mayResume: async () => true })).toMatchObject({ status: 'fresh' });
    expect(await status(a)).toBe('active');
  });

  it('regression: Stop pressed while a round is sending to that card is not undone by the round', async () => {
    tasks.set('1', 'running', 10);
    const a = await show('1');
    tasks.set('1', 'running', 20);
    await clock.advance(2000);
    const held = latch();
    messenger.gate = async () => {
      held.enter();
      await held.opened;
    };
    const ticking = round(engine);
    await held.reached; // the round is sending a progress update to the card
    messenger.gate = async () => undefined;
    const stop = await engine.cards.stopCard(cardKey(a), { inline: false });
    expect(stop.status).toBe('stopped');
    held.open();
    await ticking;
    await clock.advance(1000); // one update a second per card
    await round(engine); // the task was poked: the stopped rendering follows the progress update
    expect(await status(a)).toBe('stopped');
    expect(last(a)?.note).toContain('updates stopped');
    const sent = messenger.updatesOf(a.handle).length;
    for (let i = 0; i < 5; i++) {
      tasks.set('1', 'running', 30 + i * 10);
      await clock.advance(60_000);
      await round(engine);
    }
    expect(messenger.updatesOf(a.handle)).toHaveLength(sent);
    expect((await store.tasks.get('feishu:contact:1'))!.active).toBe(0);
  });

  it('while the platform is slow, a final overtakes waiting progress, and progress superseded before its turn is never sent', async () => {
    await engine.stop();
    engine = rig.another({ options: { sendConcurrency: 1 } });
    for (const id of ['a', 'b', 'c']) tasks.set(id, 'running', 10);
    // Shown a moment apart: a is the stalest, whatever order the store hands the three tasks back in.
    const a = await show('a', 'oc_1');
    await clock.advance(1);
    const b = await show('b', 'oc_2');
    await clock.advance(1);
    const c = await show('c', 'oc_3');
    for (const id of ['a', 'b', 'c']) tasks.set(id, 'running', 20);
    await clock.advance(2000);
    await engine.tick(); // three progress updates queued
    const held = latch();
    messenger.gate = async () => {
      held.enter();
      await held.opened;
    };
    const sending = engine.flush();
    await held.reached; // the first (the stalest: a) is in flight, the platform slow to answer
    messenger.gate = async () => undefined;
    tasks.set('b', 'running', 30);
    tasks.set('c', 'succeeded', 100);
    await clock.advance(2000);
    await engine.tick(); // b's newer progress replaces its queued one; c's final joins the queue
    held.open();
    await sending;
    expect(messenger.updates.map((u) => [u.handle, u.card.final === true])).toEqual([
      [a.handle, false],
      [c.handle, true],
      [b.handle, false],
    ]);
    expect(messenger.updatesOf(b.handle)).toHaveLength(1); // its 20 % never went out: it showed 30 % at once
    expect(JSON.stringify(last(b))).toContain('30');
    expect(messenger.updatesOf(c.handle)).toHaveLength(1); // its 20 % was superseded by the end
    expect(engine.queueStats()).toMatchObject({ superseded: 2, waiting: 0 });
    expect(engine.stats.sent).toMatchObject({ final: 1, progress: 2 });
  });

  it('regression: asking again for a finished task brings its older cards to the final state at once, without another poll', async () => {
    tasks.set('2', 'running', 50);
    const older = [await show('2', 'oc_1'), await show('2', 'oc_2')];
    await clock.advance(1000);
    tasks.set('2', 'succeeded', 100);
    const fresh = await show('2', 'oc_3'); // `status` fetched the finished task and sent a final card
    expect(await status(fresh)).toBe('done');
    const polls = tasks.fetchCount('2');
    await round(engine); // no clock advance: the news made the task due now
    for (const h of older) {
      expect(await status(h)).toBe('done');
      expect(last(h)?.final).toBe(true);
    }
    expect(tasks.fetchCount('2')).toBe(polls);
    expect((await store.tasks.get('feishu:contact:2'))!).toMatchObject({ active: 0, pending: 0 });
  });

  it('regression: a card whose updates keep failing backs off on its own and its ended task is not polled again', async () => {
    tasks.set('3', 'running', 10);
    const a = await show('3');
    messenger.failWith.set(a.handle, 'UPSTREAM_UNAVAILABLE');
    tasks.set('3', 'succeeded', 100);
    await clock.advance(2000);
    await round(engine);
    expect(await status(a)).toBe('done'); // the final state is decided; only showing it is owed
    const polls = tasks.fetchCount('3');
    const attempts = messenger.attempts;
    for (let s = 0; s < 600; s++) {
      await clock.advance(1000);
      await round(engine);
    }
    expect(tasks.fetchCount('3')).toBe(polls);
    // 1 s, 2 s, 4 s … 256 s apart: nine more tries in ten minutes, not six hundred.
    expect(messenger.attempts - attempts).toBeLessThanOrEqual(10);
    expect(messenger.attempts - attempts).toBeGreaterThanOrEqual(5);
    messenger.failWith.delete(a.handle);
    await clock.advance(600_000);
    await round(engine);
    expect(last(a)?.final).toBe(true);
    expect((await store.tasks.get('feishu:contact:3'))!).toMatchObject({ active: 0, pending: 0 });
  });

  it('regression (found by the PostgreSQL model, seed 20261205): a Refresh while a Stop of another card of the task is answered inline never draws the stopped card twice', async () => {
    tasks.set('10', 'running', 10);
    const x = await show('10', 'oc_1');
    const y = await show('10', 'oc_2');
    await engine.cards.stopCard(cardKey(y), { inline: false }); // y is stopped, so Refresh has something to restart
    await clock.advance(2000);
    // Hold the Stop's inline commit, and the Refresh's record of what it sent, to open the old window.
    const commit = latch();
    const record = latch();
    const recordShown = store.cards.recordShown.bind(store.cards);
    store.cards.recordShown = async (key, status, hash, at, only) => {
      if (only === 'news') {
        commit.enter();
        await commit.opened;
      } else if (key === cardKey(x) && only === undefined) {
        record.enter();
        await record.opened;
      }
      return recordShown(key, status, hash, at, only);
    };
    const stop = engine.cards.stopCard(cardKey(x), { inline: true });
    await commit.reached;
    const refresh = engine.cards.refresh(cardKey(y), { inline: true });
    await Promise.race([record.reached, refresh]);
    commit.open();
    const stopped = await stop;
    record.open();
    await refresh;
    store.cards.recordShown = recordShown;
    await clock.advance(1000);
    await round(engine);
    const drawnStopped = [...(stopped.status === 'stopped' && stopped.card ? [stopped.card] : []), ...messenger.updatesOf(x.handle)].filter((c) =>
      c.note?.includes('updates stopped'),
    );
    expect(drawnStopped).toHaveLength(1);
  });

  it('Refresh with nothing new answers with the card as it is (inline), not "refreshing"', async () => {
    tasks.set('9', 'running', 10);
    const a = await show('9');
    await clock.advance(1000);
    const r = await engine.cards.refresh(cardKey(a), { inline: true });
    expect(r.status).toBe('fresh');
    expect(r.status === 'fresh' && r.card?.state).toBe('running');
  });

  it("one card's failing sends do not make its task hot for the other cards", async () => {
    tasks.set('4', 'running', 10);
    const bad = await show('4', 'oc_1');
    await show('4', 'oc_2');
    messenger.failWith.set(bad.handle, 'UPSTREAM_UNAVAILABLE');
    await clock.advance(INTEREST_MS); // the second `status` made the task interesting for a while
    await round(engine);
    const polls = tasks.fetchCount('4');
    for (let s = 0; s < 120; s++) {
      await clock.advance(1000);
      await round(engine);
    }
    // Nothing changed upstream: polls back off 2 → 4 → … → 60 s whatever the bad card does.
    expect(tasks.fetchCount('4') - polls).toBeLessThanOrEqual(7);
  });

  it('a permanent send failure ends only that card (gone), and costs no more calls', async () => {
    tasks.set('5', 'running', 10);
    const gone = await show('5', 'oc_1');
    const ok = await show('5', 'oc_2');
    messenger.gone.add(gone.handle);
    tasks.set('5', 'running', 20);
    await clock.advance(2000);
    await round(engine);
    expect(await status(gone)).toBe('gone');
    expect(await status(ok)).toBe('active');
    const attempts = messenger.attempts;
    tasks.set('5', 'running', 30);
    await clock.advance(4000);
    await round(engine);
    expect(messenger.attempts - attempts).toBe(1); // only the good card
  });

  it('Refresh restarts a stopped card; on a finished card it says so and sends nothing', async () => {
    tasks.set('6', 'running', 10);
    const a = await show('6');
    await engine.cards.stopCard(cardKey(a), { inline: false });
    tasks.set('6', 'running', 40);
    const r = await engine.cards.refresh(cardKey(a), { inline: true });
    expect(r.status === 'fresh' && r.card !== undefined && !r.card.final).toBe(true);
    expect(await status(a)).toBe('active');
    tasks.set('6', 'succeeded', 100);
    await clock.advance(2000);
    await round(engine);
    expect(await status(a)).toBe('done');
    const sent = messenger.updates.length;
    expect(await engine.cards.refresh(cardKey(a), { inline: true })).toEqual({ status: 'ended' });
    expect(await engine.cards.stopCard(cardKey(a), { inline: true })).toEqual({ status: 'ended' });
    expect(messenger.updates.length).toBe(sent);
  });

  it('Stop while another round holds the task answers at once, and that round shows the stopped card', async () => {
    tasks.set('7', 'running', 10);
    const a = await show('7');
    await clock.advance(2000);
    const held = latch();
    tasks.gate = async () => {
      held.enter();
      await held.opened;
    };
    const ticking = round(engine);
    await held.reached;
    const other = rig.another();
    expect(await other.cards.stopCard(cardKey(a), { inline: true })).toEqual({ status: 'stopped' }); // no inline card: the round sends it
    tasks.gate = async () => undefined;
    held.open();
    await ticking;
    await clock.advance(1000);
    await round(engine);
    expect(await status(a)).toBe('stopped');
    expect(last(a)?.note).toContain('updates stopped');
    expect(messenger.updatesOf(a.handle).filter((c) => c.note?.includes('updates stopped'))).toHaveLength(1);
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { taskCard } from '../../src/cards/task-card.js';
import type { ManualClock } from '../../src/domain/clock.js';
import type { Store } from '../../src/store/store.js';
import type { WatchEngine } from '../../src/watch/engine.js';
import { engineRig, TZ, type EngineRig } from '../helpers/engine-rig.js';
import type { RecordingMessenger } from '../helpers/recording-messenger.js';
import { round } from '../helpers/round.js';
import type { ScriptedTasks } from '../helpers/scripted-tasks.js';

describe('the time-left estimate on the card and in polling', () => {
  let rig: EngineRig;
  let store: Store;
  let clock: ManualClock;
  let tasks: ScriptedTasks;
  let messenger: RecordingMessenger;
  let engine: WatchEngine;

  beforeEach(async () => {
    rig = await engineRig('sqlite');
    ({ store, clock, tasks, messenger, engine } = rig);
  });
  afterEach(() => rig.close());

  /** A task moving 1 % every `secPerPercent` seconds, watched for `minutes`; returns the polls made. */
  async function watch(secPerPercent: number, minutes: number): Promise<number> {
    const start = clock.now();
    tasks.set('1', 'running', 0);
    const snap = tasks.snapshot('1');
    const model = taskCard(snap, { locale: 'en', timeZone: TZ, mode: 'live' });
    await engine.cards.track(await messenger.send({ app: 'feishu', platform: 'feishu', chatId: 'oc_1' }, model), snap, 'en', model);
    for (let s = 0; s < minutes * 60; s++) {
      await clock.advance(1000);
      tasks.set('1', 'running', Math.min(99, Math.floor((clock.now() - start) / 1000 / secPerPercent)));
      await round(engine);
    }
    return tasks.fetchCount('1');
  }

  it('a task an hour from its end is not polled every few seconds, and its card says how long is left', async () => {
    const polls = await watch(36, 15); // 1 % every 36 s: about an hour in all
    // Without the estimate every change resets the backoff to 2 s: ~300 polls in 15 minutes.
    expect(polls).toBeLessThan(40);
    const last = messenger.updates.at(-1)!.card;
    const bar = last.blocks.find((b) => b.type === 'progress');
    expect(bar?.type === 'progress' && bar.text).toMatch(/about (4\d|50|55) min left/);
  });

  it('a task that will end within a minute keeps the quick backoff', async () => {
    const polls = await watch(0.5, 0.75); // 1 % every half second
    expect(polls).toBeGreaterThan(10);
  });

  it('a task about to end keeps room in the minute for its final; once nobody watches it, that room lapses a minute past its expected end', async () => {
    const holds: { at: number; hold: number }[] = [];
    const limited = Object.assign(messenger, { readyAt: (_lane: string, hold = 0) => (holds.push({ at: clock.now(), hold }), clock.now()) });
    const e = rig.another({ messenger: limited });
    const show = async (id: string) => {
      const snap = tasks.snapshot(id);
      const model = taskCard(snap, { locale: 'en', timeZone: TZ, mode: 'live' });
      const h = await messenger.send({ app: 'feishu', platform: 'feishu', chatId: `oc_${id}` }, model);
      await e.cards.track(h, snap, 'en', model);
      return h;
    };
    tasks.set('fast', 'running', 0);
    tasks.set('slow', 'running', 0);
    const fast = await show('fast');
    await show('slow');
    const start = clock.now();
    const move = () => {
      const s = (clock.now() - start) / 1000;
      tasks.set('fast', 'running', Math.min(99, Math.floor(s * 2))); // 2 % a second: ends within the minute
      tasks.set('slow', 'running', Math.floor(s / 36));
    };
    for (let s = 0; s < 20; s++) {
      await clock.advance(1000);
      move();
      await round(e);
    }
    expect(holds.at(-1)?.hold).toBe(1); // the fast task's one card will want its final soon
    await e.cards.stopCard(`feishu:${fast.handle}`, { inline: false });
    for (let s = 0; s < 120; s++) {
      await clock.advance(1000);
      move();
      await round(e);
    }
    // Expected to end about 50 s in; stopped at 20 s, it is not polled again to say otherwise.
    const after = holds.filter((h) => h.at > start + 111_000);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((h) => h.hold === 0)).toBe(true);
  });

  it('someone looking again (a Refresh) makes the task poll at least every 5 s for a few minutes, then it calms down', async () => {
    tasks.set('2', 'running', 10);
    const snap = tasks.snapshot('2');
    const model = taskCard(snap, { locale: 'en', timeZone: TZ, mode: 'live' });
    const h = await messenger.send({ app: 'feishu', platform: 'feishu', chatId: 'oc_1' }, model);
    await engine.cards.track(h, snap, 'en', model);
    const count = async (seconds: number) => {
      const before = tasks.fetchCount('2');
      for (let s = 0; s < seconds; s++) {
        await clock.advance(1000);
        await round(engine);
      }
      return tasks.fetchCount('2') - before;
    };
    await count(300); // nothing moves: backed off to once a minute
    expect(await count(60)).toBeLessThanOrEqual(2);
    await engine.cards.refresh(`feishu:${h.handle}`, { inline: false });
    expect(await count(60)).toBeGreaterThanOrEqual(11);
    await count(150);
    expect(await count(60)).toBeLessThanOrEqual(2);
  });

  it('background polls keep within the API budget and nobody starves; a Refresh does not wait for it', async () => {
    const limited = rig.another({ options: { pollBudget: { 'feishu:contact': 2 } } });
    const handles = [];
    for (let i = 0; i < 10; i++) {
      tasks.set(`b${i}`, 'running', 10);
      const snap = tasks.snapshot(`b${i}`);
      const model = taskCard(snap, { locale: 'en', timeZone: TZ, mode: 'live' });
      const h = await messenger.send({ app: 'feishu', platform: 'feishu', chatId: `oc_${i}` }, model);
      await limited.cards.track(h, snap, 'en', model);
      handles.push(h);
    }
    await clock.advance(2000); // all ten due at once
    const perSecond: number[] = [];
    for (let s = 0; s < 6; s++) {
      const before = tasks.totalFetches();
      for (let ms = 0; ms < 1000; ms += 100) {
        await round(limited);
        await clock.advance(100);
      }
      perSecond.push(tasks.totalFetches() - before);
    }
    expect(Math.max(...perSecond)).toBeLessThanOrEqual(2);
    for (let i = 0; i < 10; i++) expect(tasks.fetchCount(`b${i}`)).toBeGreaterThanOrEqual(1); // nobody starves
    expect(limited.stats.deferred).toBeGreaterThan(0);
    // Saturate the budget again, then a person presses Refresh: polled at once.
    for (let i = 0; i < 10; i++) await store.tasks.poke(`feishu:contact:b${i}`, clock.now());
    await round(limited);
    const before = tasks.fetchCount('b9');
    expect((await limited.cards.refresh(`feishu:${handles[9]!.handle}`, { inline: true })).status).toBe('fresh');
    expect(tasks.fetchCount('b9')).toBe(before + 1);
  });
});

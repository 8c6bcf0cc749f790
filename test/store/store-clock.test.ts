import { afterEach, describe, expect, it } from 'vitest';
import { taskCard } from '../../src/cards/task-card.js';
import { cardKey } from '../../src/domain/chat.js';
import { ManualClock } from '../../src/domain/clock.js';
import type { Store } from '../../src/store/store.js';
import { StoreClock } from '../../src/store/store-clock.js';
import { WatchEngine } from '../../src/watch/engine.js';
import { RecordingMessenger } from '../helpers/recording-messenger.js';
import { ScriptedTasks } from '../helpers/scripted-tasks.js';
import { freshStore } from '../helpers/stores.js';
import { round } from '../helpers/round.js';
import { cardRow, taskRow } from '../helpers/rows.js';

const TZ = 'Asia/Shanghai';
const HOUR = 3600_000;

/** SQLite follows this host's wall clock; when it steps, the stored deadlines and ages step with it. */
describe('the store clock on SQLite, across steps of the wall clock', () => {
  let store: Store;
  let engine: WatchEngine | undefined;
  afterEach(async () => {
    await engine?.stop();
    await store?.close();
  });

  async function world() {
    ({ store } = await freshStore('sqlite'));
    const wall = new ManualClock(Date.UTC(2026, 11, 4, 2));
    const clock = await StoreClock.open(store, wall);
    const tasks = new ScriptedTasks();
    const messenger = new RecordingMessenger('feishu', () => clock.now());
    engine = new WatchEngine({ store, tasks, messengers: { feishu: messenger }, timeZone: TZ, clock, options: { minPollMs: 2000 } });
    tasks.set('1', 'running', 10);
    const snap = tasks.snapshot('1');
    const model = taskCard(snap, { locale: 'en', timeZone: TZ, mode: 'live' });
    const h = await messenger.send({ app: 'feishu', platform: 'feishu', chatId: 'oc_1' }, model);
    await engine.cards.track(h, snap, 'en', model);
    return { wall, clock, tasks, messenger, h, e: engine };
  }

  it('a step back of an hour stalls nothing: the task is polled on time', async () => {
    const { wall, clock, tasks, e } = await world();
    wall.stepWall(-HOUR);
    await clock.sync();
    expect(Math.abs(clock.now() - wall.now())).toBeLessThan(5);
    await wall.advance(2000);
    await round(e);
    expect(tasks.fetchCount('1')).toBe(1);
    await wall.advance(4000);
    await round(e);
    expect(tasks.fetchCount('1')).toBe(2);
  });

  it('a step forward of a day neither ends the watch (its 24 h) nor lets a lease go early', async () => {
    const { wall, clock, tasks, h, e } = await world();
    await wall.advance(2000);
    await round(e);
    wall.stepWall(25 * HOUR);
    await clock.sync();
    await wall.advance(4000);
    await round(e);
    expect((await store.cards.get(cardKey(h)))!.status).toBe('active');
    expect(tasks.fetchCount('1')).toBe(2);
    // A lease taken before a step is still held after it.
    await store.tasks.lease('feishu:contact:1', 'someone', clock.now(), clock.now() + 15_000);
    wall.stepWall(HOUR);
    await clock.sync();
    expect(await store.tasks.claimDue('another', clock.now(), clock.now() + 15_000, 10)).toEqual([]);
  });

  it('a time read before a step back and written after it (a round in flight across the step) is brought back at the next look', async () => {
    const { wall, clock, tasks, e } = await world();
    const before = clock.now();
    wall.stepWall(-HOUR);
    await clock.sync();
    // The round that read the time before the step writes its schedule now.
    await store.tasks.lease('feishu:contact:1', 'late-round', before, before + 15_000);
    await store.tasks.complete('feishu:contact:1', 'late-round', before, { next_due_at: before + 2000 });
    await wall.advance(2000);
    await clock.sync();
    await wall.advance(2000);
    await round(e);
    expect(tasks.fetchCount('1')).toBe(1);
  });

  it('times written while the clock was ahead (it was set back while taskbot was down) are brought back at start', async () => {
    ({ store } = await freshStore('sqlite'));
    const wall = new ManualClock(Date.UTC(2026, 11, 4, 2));
    const t = taskRow('feishu:drive:1', {
      snapshot_hash: 'h',
      next_due_at: wall.now() + 2 * HOUR,
      created_at: wall.now() + 2 * HOUR,
      last_changed_at: wall.now(),
    });
    await store.cards.add(cardRow('feishu:om_1', t.task_key, { locale: 'en', created_at: wall.now() }), t, false);
    const clock = await StoreClock.open(store, wall);
    expect((await store.tasks.claimDue('a', clock.now(), clock.now() + 15_000, 10)).map((r) => r.task_key)).toEqual(['feishu:drive:1']);
    expect((await store.tasks.get('feishu:drive:1'))!.created_at).toBe(clock.now());
  });
});

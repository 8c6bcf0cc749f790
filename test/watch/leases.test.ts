import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { taskCard } from '../../src/cards/task-card.js';
import { cardKey, type CardHandle } from '../../src/domain/chat.js';
import { ManualClock } from '../../src/domain/clock.js';
import { TaskbotError } from '../../src/domain/errors.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { WatchEngine } from '../../src/watch/engine.js';
import { RecordingMessenger } from '../helpers/recording-messenger.js';
import { ScriptedTasks } from '../helpers/scripted-tasks.js';
import { freshStoreUrl, STORE_KINDS } from '../helpers/stores.js';
import { round } from '../helpers/round.js';
import { latch } from '../helpers/latch.js';

const TZ = 'Asia/Shanghai';
const LEASE = 15_000;

/**
 * Work that outlives its lease (a slow platform, a paused process) re-checks it before each write,
 * and a mention the platform cannot deduplicate (DingTalk) goes out at most once per card and person.
 */
describe.each(STORE_KINDS)('leases cover the work they guard (%s)', (kind) => {
  let stores: Store[];
  let clock: ManualClock;
  let tasks: ScriptedTasks;
  let messenger: RecordingMessenger;
  let a: WatchEngine;
  let b: WatchEngine;

  beforeEach(async () => {
    const url = await freshStoreUrl(kind);
    stores = kind === 'postgres' ? [await openStore(url), await openStore(url)] : [await openStore(url)];
    clock = new ManualClock(Date.UTC(2026, 11, 4, 2));
    tasks = new ScriptedTasks();
    // DingTalk-like: a robot message has no idempotency key.
    messenger = new RecordingMessenger('feishu', () => clock.now());
    messenger.dedupesRepeats = false;
    const on = (i: number, owner: string) =>
      new WatchEngine({
        store: stores[i % stores.length]!,
        tasks,
        messengers: { feishu: messenger },
        timeZone: TZ,
        clock,
        owner,
        options: { leaseMs: LEASE, sendConcurrency: 1 },
      });
    a = on(0, 'replica-a');
    b = on(1, 'replica-b');
  });
  afterEach(async () => {
    for (const e of [a, b]) await e.stop();
    for (const s of stores) await s.close();
  });

  async function show(id: string, chatId: string): Promise<CardHandle> {
    const snap = tasks.snapshot(id);
    const model = taskCard(snap, { locale: 'en', timeZone: TZ, mode: 'live' });
    const handle = await messenger.send({ app: 'feishu', platform: 'feishu', chatId }, model);
    await a.cards.track(handle, snap, 'en', model);
    return handle;
  }

  it('a round whose writes outlive its lease stops before its next write once another holder took the task: the final and the mention go out once', async () => {
    tasks.set('1', 'running', 10);
    const first = await show('1', 'oc_1');
    const second = await show('1', 'oc_2');
    await a.cards.subscribe(cardKey(second), 'ou_waiting0000000000000000000001');
    tasks.set('1', 'succeeded', 100);
    await clock.advance(3000);
    // A's first write hangs on a slow platform past its lease (the process paused, say).
    const held = latch();
    messenger.gate = async (h) => {
      if (h !== first.handle) return;
      messenger.gate = async () => undefined;
      held.enter();
      await held.opened;
    };
    const roundA = round(a);
    await held.reached;
    // Past A's lease, and past the re-check of a task whose finals wait in a queue: B takes it.
    await clock.advance(35_000);
    await round(b); // B finds the lease lapsed and brings both cards to the end, mentioning once
    expect(messenger.mentions).toHaveLength(1);
    held.open();
    await roundA; // A's held write lands; it checks its lease before the next one, and stops
    expect(messenger.mentions).toHaveLength(1);
    expect(messenger.updatesOf(second.handle).filter((m) => m.final)).toHaveLength(1);
  });

  it('a mention that may have gone out (the holder paused mid-send, no answer) is never sent again where the platform cannot deduplicate it', async () => {
    tasks.set('2', 'running', 10);
    const h = await show('2', 'oc_1');
    await a.cards.subscribe(cardKey(h), 'ou_waiting0000000000000000000002');
    tasks.set('2', 'failed', 40);
    await clock.advance(3000);
    const held = latch();
    const mention = messenger.mention.bind(messenger);
    messenger.mention = async (...args) => {
      held.enter();
      await held.opened;
      return mention(...args);
    };
    const roundA = round(a);
    await held.reached; // A recorded the intent and is sending
    messenger.mention = mention;
    await clock.advance(35_000);
    await round(b); // B sees a mention begun and never finished: not repeated
    expect(messenger.mentions).toHaveLength(0);
    held.open();
    await roundA;
    expect(messenger.mentions).toHaveLength(1);
    for (let i = 0; i < 3; i++) {
      await clock.advance(60_000);
      await Promise.all([round(a), round(b)]);
    }
    expect(messenger.mentions).toHaveLength(1);
    expect(await stores[0]!.subscribers.owed(cardKey(h))).toEqual([]);
  });

  it('a mention that timed out is not repeated where the platform cannot deduplicate it; one refused outright is tried again', async () => {
    tasks.set('3', 'running', 10);
    const timedOut = await show('3', 'oc_1');
    await a.cards.subscribe(cardKey(timedOut), 'ou_waiting0000000000000000000003');
    tasks.set('3', 'succeeded', 100);
    const mention = messenger.mention.bind(messenger);
    let calls = 0;
    messenger.mention = async () => {
      calls++;
      throw new TaskbotError('UPSTREAM_TIMEOUT', 'no answer within 10000 ms', { ambiguous: true });
    };
    await clock.advance(3000);
    await round(a);
    await clock.advance(60_000);
    await round(a);
    expect(calls).toBe(1);
    expect(await stores[0]!.subscribers.owed(cardKey(timedOut))).toEqual([]);

    tasks.set('4', 'running', 10);
    const refused = await show('4', 'oc_2');
    await a.cards.subscribe(cardKey(refused), 'ou_waiting0000000000000000000004');
    tasks.set('4', 'succeeded', 100);
    messenger.mention = async () => {
      calls++;
      messenger.mention = mention;
      throw new TaskbotError('UPSTREAM_UNAVAILABLE', 'HTTP 503', { httpStatus: 503 });
    };
    await clock.advance(3000);
    await round(a);
    await clock.advance(60_000);
    await round(a);
    expect(messenger.mentions.map((m) => m.card)).toEqual([refused.handle]);
  });
});

import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import type { SendLane } from '../../src/domain/chat.js';
import { BUSY_RETRY_MS, CardQueue, type QueuedCard } from '../../src/watch/card-queue.js';

const card = (key: string, lane: SendLane, o: Partial<QueuedCard> = {}): QueuedCard => ({
  key,
  taskKey: `t-${key}`,
  lane,
  shownAt: 0,
  notBefore: 0,
  hash: `${key}-1`,
  ...o,
});

describe('card queue', () => {
  it('sends the most valuable first: people, finals, cards looked at, then progress stalest first', async () => {
    const sent: string[] = [];
    const q = new CardQueue(async (cs) => (sent.push(...cs.map((c) => c.key)), 'done'), new ManualClock(), { concurrency: 1 });
    q.offer(card('p-new', 'progress', { shownAt: 900 }));
    q.offer(card('p-old', 'progress', { shownAt: 100 }));
    q.offer(card('seen', 'interest'));
    q.offer(card('end', 'final'));
    q.offer(card('answer', 'people'));
    await q.drain();
    expect(sent).toEqual(['answer', 'end', 'seen', 'p-old', 'p-new']);
  });

  it("works fewer turns of fewer cards at once on a share of the app's limits, as the share is at the time", async () => {
    let inFlight = 0;
    let most = 0;
    const turns: number[] = [];
    let share = 1 / 3;
    const q = new CardQueue(
      async (cs) => {
        turns.push(cs.length);
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        return 'done';
      },
      new ManualClock(),
      { concurrency: 6, share: () => share },
    );
    // Four tasks of ten cards each.
    const offer = (tag: string) => {
      for (let i = 0; i < 40; i++) q.offer(card(`${tag}${i}`, 'final', { taskKey: `${tag}-task${i % 4}` }));
    };
    offer('a');
    await q.drain();
    expect([most, Math.max(...turns)]).toEqual([2, 3]);
    share = 1; // the other replicas went away
    most = 0;
    turns.length = 0;
    offer('b');
    await q.drain();
    expect([most, Math.max(...turns)]).toEqual([4, 10]);
  });

  it("forgets every card of a task whose writes another replica holds, and only that task's", async () => {
    const sent: string[] = [];
    const q = new CardQueue(async (cs) => (sent.push(...cs.map((c) => c.key)), 'done'), new ManualClock(), { concurrency: 1 });
    for (const k of ['a1', 'a2', 'a3']) q.offer(card(k, 'final', { taskKey: 'ta' }));
    q.offer(card('a4', 'progress', { taskKey: 'ta' }));
    q.offer(card('b1', 'final', { taskKey: 'tb' }));
    q.dropTask('ta');
    expect(q.size).toBe(1);
    await q.drain();
    expect(sent).toEqual(['b1']);
  });

  it('keeps one entry per card: newer content replaces what had not gone out, counted as superseded, in the higher lane', async () => {
    const sent: QueuedCard[] = [];
    const q = new CardQueue(async (cs) => (sent.push(...cs), 'done'), new ManualClock(), { concurrency: 1 });
    q.offer(card('a', 'progress', { hash: 'h1' }));
    q.offer(card('a', 'progress', { hash: 'h2' }));
    q.offer(card('a', 'progress', { hash: 'h2' })); // the same content again is not news
    q.offer(card('b', 'interest', { hash: 'x1' }));
    q.offer(card('b', 'progress', { hash: 'x2' })); // a later offer never lowers the lane
    expect(q.stats).toEqual({ offered: 5, superseded: 1 });
    await q.drain();
    expect(sent.map((c) => [c.key, c.hash, c.lane])).toEqual([
      ['b', 'x2', 'interest'],
      ['a', 'h2', 'progress'],
    ]);
  });

  it("waits for a card's time, sends a task's due cards of one lane in one turn, and never two turns of one task at once", async () => {
    const clock = new ManualClock();
    let inFlight = 0;
    let most = 0;
    const turns: string[][] = [];
    const q = new CardQueue(
      async (cs) => {
        most = Math.max(most, ++inFlight);
        await clock.sleep(10);
        inFlight--;
        turns.push(cs.map((c) => c.key));
        return 'done';
      },
      clock,
      { concurrency: 4 },
    );
    for (const k of ['x', 'y']) q.offer(card(k, 'progress', { taskKey: 'one' }));
    q.offer(card('z', 'final', { taskKey: 'one' }));
    q.offer(card('later', 'final', { taskKey: 'two', notBefore: 500 }));
    q.start();
    await clock.advance(100);
    expect(most).toBe(1);
    expect(turns).toEqual([['z'], ['x', 'y']]);
    await clock.advance(500);
    expect(turns.at(-1)).toEqual(['later']);
    // Ten at most in a turn.
    for (let i = 0; i < 12; i++) q.offer(card(`m${i}`, 'final', { taskKey: 'many' }));
    await clock.advance(100);
    const many = turns.filter((t) => t[0]!.startsWith('m'));
    expect(many.flat()).toHaveLength(12);
    expect(Math.max(...many.map((t) => t.length))).toBe(10);
    await q.stop();
  });

  it('a card whose task is held elsewhere is tried again shortly; a failed turn is dropped (the next round offers it again)', async () => {
    const clock = new ManualClock();
    const tries: string[] = [];
    let busy = true;
    const q = new CardQueue(
      async ([c]) => {
        tries.push(`${c!.key}@${clock.now()}`);
        if (c!.key === 'boom') throw new Error('store hiccup');
        return busy ? 'busy' : 'done';
      },
      clock,
      { concurrency: 1 },
    );
    q.start();
    q.offer(card('held', 'final'));
    q.offer(card('boom', 'final'));
    await clock.advance(0);
    busy = false;
    await clock.advance(BUSY_RETRY_MS);
    expect(tries).toEqual(['held@0', 'boom@0', `held@${BUSY_RETRY_MS}`]);
    expect(q.size).toBe(0);
    await q.stop();
  });

  it('takes no card while the platform has no room for its lane, and takes it when there is', async () => {
    const clock = new ManualClock();
    const sent: string[] = [];
    let room = 1000;
    const q = new CardQueue(async (cs) => (sent.push(...cs.map((c) => `${c.key}@${clock.now()}`)), 'done'), clock, {
      readyAt: (lane) => (lane === 'people' ? 0 : room),
    });
    q.start();
    q.offer(card('progress', 'progress'));
    await clock.advance(500);
    expect(sent).toEqual([]);
    q.offer(card('answer', 'people')); // a person's answer has its reserve
    await clock.advance(0);
    expect(sent).toEqual(['answer@500']);
    room = 0;
    await clock.advance(500);
    expect(sent).toEqual(['answer@500', 'progress@1000']);
    await q.stop();
  });

  it("looks again when the platform's room opened while it was being asked (no lost wake-up)", async () => {
    const manual = new ManualClock();
    // Real time moves while the platform is asked: it says "in 5 ms", and answering took those 5 ms.
    let skew = 0;
    const clock = { now: () => manual.now() + skew, mono: () => manual.mono() + skew, sleep: (ms: number) => manual.sleep(ms) };
    const readyAt = () => {
      if (clock.now() >= 5) return 0;
      skew = 5;
      return 5;
    };
    const sent: string[] = [];
    const q = new CardQueue(async (cs) => (sent.push(...cs.map((c) => c.key)), 'done'), clock, { readyAt });
    q.start();
    q.offer(card('end', 'final'));
    await manual.advance(50);
    expect(sent).toEqual(['end']);
    await q.stop();
  });

  it('asks the platform to keep room for the finals expected within the minute, and stops once a task is no longer expected to end', async () => {
    const clock = new ManualClock();
    const holds: number[] = [];
    const q = new CardQueue(async () => 'done', clock, { readyAt: (_lane, hold) => (holds.push(hold), 0) });
    q.expectEnd('soon', 30_000, 10);
    q.expectEnd('later', 5 * 60_000, 7);
    q.offer(card('a', 'progress'));
    await q.drain();
    q.expectEnd('soon', undefined);
    await clock.advance(1000);
    q.offer(card('b', 'progress'));
    await q.drain();
    expect(holds).toEqual([10, 0]);
  });
});

import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { TaskbotError } from '../../src/domain/errors.js';
import { backoffDelay, withRetry } from '../../src/http/retry.js';
import { SlidingWindowLimiter } from '../../src/http/rate-limit.js';
import { TokenCache } from '../../src/http/token-cache.js';
import { callWithToken } from '../../src/http/authorized-call.js';

const policy = { attempts: 4, baseDelayMs: 100, maxDelayMs: 1000 };

describe('withRetry', () => {
  it('retries retryable errors with growing waits and stops on success', async () => {
    const clock = new ManualClock();
    const waits: number[] = [];
    let calls = 0;
    const p = withRetry(
      async () => {
        calls++;
        if (calls < 3) throw new TaskbotError('UPSTREAM_UNAVAILABLE', 'boom');
        return 'ok';
      },
      { policy, clock, random: () => 1, onRetry: (_e, _a, d) => waits.push(d) },
    );
    await clock.advance(10_000);
    await expect(p).resolves.toBe('ok');
    expect(calls).toBe(3);
    expect(waits).toEqual([100, 200]);
  });

  it('does not retry a non-retryable error', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new TaskbotError('TASK_NOT_FOUND', 'nope');
        },
        { policy },
      ),
    ).rejects.toMatchObject({ code: 'TASK_NOT_FOUND' });
    expect(calls).toBe(1);
  });

  it('gives up after the last attempt with the last error', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const p = withRetry(
      async () => {
        calls++;
        throw new TaskbotError('UPSTREAM_TIMEOUT', `t${calls}`);
      },
      { policy, clock },
    );
    const settled = expect(p).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT', message: 't4' });
    await clock.advance(60_000);
    await settled;
    expect(calls).toBe(4);
  });

  it('waits at least what the server asked for (rate-limit reset)', () => {
    expect(backoffDelay(1, policy, () => 0, 5000)).toBe(5000);
    expect(backoffDelay(1, policy, () => 0)).toBe(50);
    // jitter stays within [ceiling/2, ceiling], ceiling capped at maxDelayMs
    expect(backoffDelay(10, policy, () => 1)).toBe(1000);
  });
});

describe('SlidingWindowLimiter', () => {
  it('lets at most `limit` starts into any window and serves callers in order', async () => {
    const clock = new ManualClock();
    const limiter = new SlidingWindowLimiter(10, 1000, clock);
    const startedAt: number[] = [];
    const all = Array.from({ length: 25 }, (_, i) => limiter.acquire().then(() => startedAt.push(clock.now()) && i));
    await clock.advance(5000);
    const order = await Promise.all(all);
    expect(order).toEqual([...Array(25).keys()]);
    for (const t of startedAt) expect(startedAt.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(10);
    // Full use of the limit: 25 starts need just over two windows.
    expect(startedAt.at(-1)).toBe(2000);
  });
});

describe('TokenCache', () => {
  it('fetches once for concurrent first callers, refreshes before expiry, and evicts only the token it was told about', async () => {
    const clock = new ManualClock(0);
    let n = 0;
    const cache = new TokenCache(async () => ({ token: `tok${++n}`, expiresInSec: 600 }), 300_000, clock);
    const first = await Promise.all([cache.get(), cache.get(), cache.get()]);
    expect(first).toEqual(['tok1', 'tok1', 'tok1']);
    await clock.advance(299_000);
    expect(await cache.get()).toBe('tok1');
    await clock.advance(2_000);
    expect(await cache.get()).toBe('tok2');
    cache.invalidate('tok1'); // stale: ignored
    expect(await cache.get()).toBe('tok2');
    cache.invalidate('tok2');
    expect(await cache.get()).toBe('tok3');
  });

  it('lets the next caller try again after a failed fetch', async () => {
    let n = 0;
    const cache = new TokenCache(async () => {
      if (++n === 1) throw new TaskbotError('UPSTREAM_UNAVAILABLE', 'down');
      return { token: 'ok', expiresInSec: 600 };
    }, 0);
    await expect(cache.get()).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    await expect(cache.get()).resolves.toBe('ok');
  });
});

describe('callWithToken', () => {
  it('evicts an invalid token and retries once with a fresh one, then gives up', async () => {
    let n = 0;
    const cache = new TokenCache(async () => ({ token: `t${++n}`, expiresInSec: 600 }), 0);
    const seen: string[] = [];
    const invalid = () => new TaskbotError('AUTH_FAILED', 'bad token', { tokenInvalid: true });
    await expect(
      callWithToken(cache, async (t) => {
        seen.push(t);
        if (t === 't1') throw invalid();
        return 'done';
      }),
    ).resolves.toBe('done');
    expect(seen).toEqual(['t1', 't2']);

    seen.length = 0;
    await expect(callWithToken(cache, async (t) => (seen.push(t), Promise.reject(invalid())))).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    expect(seen).toEqual(['t2', 't3']);
  });
});

describe('SendPacer', () => {
  it('keeps every window at once (per second, per minute, per chat) without one busy chat holding up others', async () => {
    const { SendPacer } = await import('../../src/http/send-pacer.js');
    const clock = new ManualClock();
    const pacer = new SendPacer({ perSecond: 10, perMinute: 25, perKeyPerSecond: 2 }, clock, 1000);
    const started: { key: string; at: number }[] = [];
    const all = [...Array.from({ length: 10 }, () => 'busy'), ...Array.from({ length: 20 }, (_, i) => `chat${i % 10}`)].map((key) =>
      pacer.acquire(key).then((answered) => {
        started.push({ key, at: clock.now() });
        answered();
      }),
    );
    for (let i = 0; i < 80; i++) await clock.advance(1000);
    await Promise.all(all);
    expect(started).toHaveLength(30);
    for (const s of started) {
      expect(started.filter((x) => x.at >= s.at && x.at < s.at + 1000).length).toBeLessThanOrEqual(10);
      expect(started.filter((x) => x.key === s.key && x.at >= s.at && x.at < s.at + 1000).length).toBeLessThanOrEqual(2);
      expect(started.filter((x) => x.at >= s.at && x.at < s.at + 60_000).length).toBeLessThanOrEqual(25);
    }
    // The busy chat's backlog did not hold the others: the first second served ten sends, two of them its.
    expect(
      started
        .filter((s) => s.at === 0)
        .map((s) => s.key)
        .filter((k) => k === 'busy'),
    ).toHaveLength(2);
    expect(started.filter((s) => s.at === 0)).toHaveLength(10);
  });

  it('replicas each keep their share of the limits, so together they keep the app-wide ones', async () => {
    const { SendPacer } = await import('../../src/http/send-pacer.js');
    const clock = new ManualClock();
    const limits = { perSecond: 10, perMinute: 40, perKeyPerSecond: 4, reserve: { perSecond: 2, perMinute: 4 } };
    const replicas = [new SendPacer(limits, clock, 1000, undefined, () => 0.5), new SendPacer(limits, clock, 1000, undefined, () => 0.5)];
    const started: { key: string; at: number }[] = [];
    const all = replicas.flatMap((pacer, r) =>
      Array.from({ length: 30 }, (_, i) =>
        pacer.acquire(i % 2 ? 'same-chat' : `chat${r}-${i}`, i % 3 ? 'final' : 'people').then((answered) => {
          started.push({ key: i % 2 ? 'same-chat' : `chat${r}-${i}`, at: clock.now() });
          answered();
        }),
      ),
    );
    for (let i = 0; i < 200; i++) await clock.advance(1000);
    await Promise.all(all);
    expect(started).toHaveLength(60);
    for (const s of started) {
      expect(started.filter((x) => x.at >= s.at && x.at < s.at + 1000).length).toBeLessThanOrEqual(10);
      expect(started.filter((x) => x.at >= s.at && x.at < s.at + 60_000).length).toBeLessThanOrEqual(40);
      expect(started.filter((x) => x.key === 'same-chat' && x.at >= s.at && x.at < s.at + 1000).length).toBeLessThanOrEqual(4);
    }
  });

  it('forgets a chat or card once its window has passed: one sent to once is not held for the life of the process', async () => {
    const { SendPacer } = await import('../../src/http/send-pacer.js');
    const clock = new ManualClock();
    const pacer = new SendPacer({ perSecond: 1000, perKeyPerSecond: 5 }, clock, 1000);
    for (let i = 0; i < 500; i++) (await pacer.acquire(`message:om_${i}`))();
    expect(pacer.keysHeld).toBe(500);
    const inFlight = await pacer.acquire('chat:still-sending');
    await clock.advance(1000);
    (await pacer.acquire('chat:next'))();
    // The sends a second old are forgotten; one in flight and the one just made are held.
    expect(pacer.keysHeld).toBe(2);
    inFlight();
  });

  it('counts a send from when it was answered: a slow answer delays the next window', async () => {
    const { SendPacer } = await import('../../src/http/send-pacer.js');
    const clock = new ManualClock();
    const pacer = new SendPacer({ perSecond: 1, perMinute: 100, perKeyPerSecond: 1 }, clock, 1000);
    const first = await pacer.acquire('a');
    let second = false;
    void pacer.acquire('b').then(() => (second = true));
    await clock.advance(1500);
    expect(second).toBe(false); // the first is still in flight
    first(); // answered at 1500
    await clock.advance(999);
    expect(second).toBe(false);
    await clock.advance(1);
    expect(second).toBe(true);
  });

  it('serves people first and the other lanes first come first served, so a write let go is never starved', async () => {
    const { SendPacer } = await import('../../src/http/send-pacer.js');
    const clock = new ManualClock();
    const pacer = new SendPacer({ perSecond: 2 }, clock, 1000);
    const order: string[] = [];
    const go = (name: string, lane: 'people' | 'final' | 'interest' | 'progress') =>
      pacer.acquire(name, lane).then((answered) => {
        order.push(`${name}@${clock.now()}`);
        answered();
      });
    const all = [...Array.from({ length: 4 }, (_, i) => go(`p${i}`, 'progress')), go('seen', 'interest'), go('f', 'final'), go('r', 'people')];
    for (let i = 0; i < 5; i++) await clock.advance(1000);
    await Promise.all(all);
    expect(order).toEqual(['p0@0', 'p1@0', 'r@1000', 'p2@1000', 'p3@2000', 'seen@2000', 'f@3000']);
  });

  it('a lane whose share is spent does not hold up a final behind it', async () => {
    const { SendPacer } = await import('../../src/http/send-pacer.js');
    const clock = new ManualClock();
    const pacer = new SendPacer({ perSecond: 4, progressShare: 0.5 }, clock, 1000);
    const order: string[] = [];
    const all = ['p0', 'p1', 'p2', 'f0', 'f1'].map((name) =>
      pacer.acquire(name, name.startsWith('p') ? 'progress' : 'final').then((answered) => {
        order.push(`${name}@${clock.now()}`);
        answered();
      }),
    );
    await clock.advance(1000);
    await Promise.all(all);
    expect(order).toEqual(['p0@0', 'p1@0', 'f0@0', 'f1@0', 'p2@1000']);
  });

  it('says when a lane could write: background is metered over the minute, and progress leaves room for finals expected soon', async () => {
    const { SendPacer } = await import('../../src/http/send-pacer.js');
    const clock = new ManualClock();
    const pacer = new SendPacer({ perSecond: 10, perMinute: 100, reserve: { perSecond: 2, perMinute: 40 } }, clock, 1000);
    for (let i = 0; i < 8; i++) (await pacer.acquire('', 'progress'))();
    // 8 of 10 this second are the background's; its bucket refills at 60 a minute.
    expect(pacer.readyAt('progress')).toBe(1000);
    expect(pacer.readyAt('people')).toBe(0);
    await clock.advance(1000);
    expect(pacer.readyAt('final', 60)).toBe(1000);
    // 60 finals expected this minute: progress waits for the window to roll over.
    expect(pacer.readyAt('progress', 60)).toBe(60_000);
  });

  it('background lanes stop short of each limit by the reserve, so a person is answered at once under a burst', async () => {
    const { SendPacer } = await import('../../src/http/send-pacer.js');
    const clock = new ManualClock();
    const pacer = new SendPacer({ perSecond: 10, reserve: { perSecond: 3, perMinute: 0 } }, clock, 1000);
    let background = 0;
    for (let i = 0; i < 50; i++) void pacer.acquire('', 'progress').then((a) => (background++, a()));
    await clock.advance(0);
    expect(background).toBe(7); // 10 a second, 3 of them kept
    let replied = -1;
    void pacer.acquire('', 'people').then((a) => ((replied = clock.now()), a()));
    await clock.advance(0);
    expect(replied).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { SendPacer } from '../../src/http/send-pacer.js';
import { SlidingWindowLimiter } from '../../src/http/rate-limit.js';
import { TokenCache } from '../../src/http/token-cache.js';
import { CardQueue } from '../../src/watch/card-queue.js';

/**
 * Rate windows, token lifetimes and the card queue's waits run on the monotonic clock: the wall
 * clock stepping back an hour (an NTP correction) or forward stalls none of them and opens none.
 */
describe('in-process timing across wall-clock steps', () => {
  it('the send pacer keeps its limit and does not stall when the wall clock steps back an hour', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 4));
    const pacer = new SendPacer({ perSecond: 2 }, clock, 1000);
    const started: number[] = [];
    const send = async (n: number) => {
      const done = await pacer.acquire(`k${n}`, 'people');
      started.push(clock.mono());
      done();
    };
    await Promise.all([send(1), send(2)]);
    clock.stepWall(-3600_000);
    const later = Promise.all([send(3), send(4)]);
    await clock.advance(1500);
    await later;
    // The third and fourth went out one second after the first two: not an hour later, not at once.
    expect(started.map((t) => t - started[0]!)).toEqual([0, 0, 1000, 1000]);
  });

  it('a sliding-window limiter neither stalls on a step back nor lets a burst through on a step forward', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 4));
    const limiter = new SlidingWindowLimiter(1, 1000, clock);
    await limiter.acquire();
    clock.stepWall(3600_000);
    let second = false;
    const p = limiter.acquire().then(() => (second = true));
    await clock.advance(0);
    expect(second).toBe(false); // a step forward does not open the window
    clock.stepWall(-7200_000);
    await clock.advance(1000);
    await p;
    expect(second).toBe(true); // nor does a step back keep it shut
  });

  it('a token is refreshed after its lifetime, whatever the wall clock did meanwhile', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 4));
    let fetched = 0;
    const cache = new TokenCache(async () => ({ token: `t${++fetched}`, expiresInSec: 7200 }), 300_000, clock);
    expect(await cache.get()).toBe('t1');
    clock.stepWall(3 * 3600_000);
    expect(await cache.get()).toBe('t1'); // two hours of token left: a step is not time passing
    await clock.advance(7200_000);
    expect(await cache.get()).toBe('t2');
  });

  it('the card queue sends a card at its time after the wall clock stepped back', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 4));
    const sent: string[] = [];
    const q = new CardQueue(async (cs) => (sent.push(...cs.map((c) => c.key)), 'done'), clock);
    q.start();
    q.offer({ key: 'a', taskKey: 't', lane: 'progress', shownAt: 0, notBefore: clock.mono() + 1000, hash: 'h' });
    clock.stepWall(-3600_000);
    await clock.advance(1000);
    expect(sent).toEqual(['a']);
    await q.stop();
  });
});

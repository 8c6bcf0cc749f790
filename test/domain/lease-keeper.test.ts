import { describe, expect, it, vi } from 'vitest';
import { ManualClock, systemClock } from '../../src/domain/clock.js';
import { LeaseKeeper, LeaseLost } from '../../src/domain/lease-keeper.js';

describe('lease keeper', () => {
  it('renews every lease it holds while it is held, every third of the lease, in one call', async () => {
    // On fake timers: counted turns, not real time, so a busy machine changes nothing.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const calls: string[][] = [];
      const k = new LeaseKeeper({ leaseMs: 90, clock: systemClock, renew: async (keys) => void calls.push([...keys]), what: 'rows' });
      k.hold('a');
      k.hold('b');
      k.start();
      await vi.advanceTimersByTimeAsync(100); // renewed at 30, 60 and 90 ms
      k.drop('a');
      await vi.advanceTimersByTimeAsync(65); // and at 120 and 150 ms, without a
      k.stop();
      await vi.advanceTimersByTimeAsync(300); // stopped: no more
      expect(calls).toEqual([['a', 'b'], ['a', 'b'], ['a', 'b'], ['b'], ['b']]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('ensure() asks the store only when little of the lease is left, and says when another holder took it', async () => {
    const clock = new ManualClock(1000);
    let mine = true;
    let asked = 0;
    const k = new LeaseKeeper({ leaseMs: 15_000, clock, renew: async (keys) => (asked++, mine ? keys : []), what: 'tasks' });
    k.hold('t');
    expect(await k.ensure('t')).toBe(true);
    expect(asked).toBe(0);
    await clock.advance(11_000); // a third left: renewed first
    expect(await k.ensure('t')).toBe(true);
    expect(asked).toBe(1);
    await clock.advance(20_000); // paused past it, and someone else took it meanwhile
    mine = false;
    await expect(k.guard('t')).rejects.toBeInstanceOf(LeaseLost);
    expect(await k.ensure('t')).toBe(false); // lost stays lost
    expect(asked).toBe(2);
  });

  it('a pause is measured on the monotonic clock: a wall clock stepped back does not stretch a lease', async () => {
    const clock = new ManualClock(1000);
    let asked = 0;
    const k = new LeaseKeeper({ leaseMs: 15_000, clock, renew: async (keys) => (asked++, keys), what: 'tasks' });
    k.hold('t');
    clock.stepWall(-3600_000);
    await clock.advance(12_000);
    expect(await k.ensure('t')).toBe(true);
    expect(asked).toBe(1);
  });

  it('a store that cannot be reached neither renews nor loses the lease: it runs out on its own', async () => {
    const clock = new ManualClock(1000);
    const k = new LeaseKeeper({
      leaseMs: 15_000,
      clock,
      renew: async () => {
        throw new Error('no answer within 10000 ms');
      },
      what: 'tasks',
    });
    k.hold('t');
    await clock.advance(11_000);
    expect(await k.ensure('t')).toBe(true); // 4 s of it left
    await clock.advance(5000);
    expect(await k.ensure('t')).toBe(false); // it ran out
  });
});

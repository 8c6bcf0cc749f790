import { describe, expect, it } from 'vitest';
import { yieldIfBusy } from '../../src/domain/slice.js';

const busy = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

describe('yieldIfBusy', () => {
  it('lets timers in between the units of many busy callers, not only after all of them have had a turn', async () => {
    // Ten chains of 3 ms units: let go all at once after a pause, each would run a unit before the loop turns.
    const log: string[] = [];
    let on = true;
    const timer = () => setTimeout(() => (log.push('timer'), on && timer()), 0);
    timer();
    const chain = async () => {
      for (let i = 0; i < 20; i++) {
        await yieldIfBusy();
        busy(3);
        log.push('unit');
      }
    };
    await Promise.all(Array.from({ length: 10 }, chain));
    on = false;
    const runs = log.join(' ').split('timer').map((s) => s.trim().split(/\s+/).filter(Boolean).length);
    expect(log.filter((e) => e === 'unit')).toHaveLength(200);
    // A slice is 4 ms: two units at most, and the pause that follows lets the timer in. Let go
    // together, every run would be ten units or more; a machine busy with other work (the rest of the
    // suite) may stretch an odd run, so almost all of them, not every one, must be short.
    const long = runs.filter((n) => n > 3).length;
    expect(long / runs.length).toBeLessThan(0.1);
  });
});

import { describe, expect, it } from 'vitest';
import { yieldIfBusy } from '../../src/domain/slice.js';

const busy = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

describe('yieldIfBusy', () => {
  it('lets timers in between the units of many busy callers, not only after all of them have had a turn', async () => {
    // Ten chains of units longer than a slice (4 ms): every unit ends its slice, so each chain waits
    // before its next unit. Let go one per turn of the event loop, a due timer gets in between any
    // two units; let go all at once, ten units would run back to back. Only lower bounds on time are
    // used (a unit lasts at least 5 ms, a 0 ms timer is due after 1 ms): a busy machine makes every
    // wait longer, which changes nothing here.
    await new Promise((r) => setTimeout(r, 10)); // the current slice is over: all ten start waiting
    const log: string[] = [];
    let on = true;
    const timer = () => setTimeout(() => (log.push('timer'), on && timer()), 0);
    timer();
    const chain = async () => {
      for (let i = 0; i < 10; i++) {
        await yieldIfBusy();
        busy(5);
        log.push('unit');
      }
    };
    await Promise.all(Array.from({ length: 10 }, chain));
    on = false;
    const runs = log
      .join(' ')
      .split('timer')
      .map((s) => s.trim().split(/\s+/).filter(Boolean).length);
    expect(log.filter((e) => e === 'unit')).toHaveLength(100);
    expect(Math.max(...runs)).toBe(1);
  });
});

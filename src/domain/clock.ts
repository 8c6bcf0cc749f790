import { setTimeout as delay } from 'node:timers/promises';

/**
 * Time as a dependency, so tests and benchmarks can run schedules without waiting. Two kinds:
 * `now()` is what time it is (people's time, and the store's schedules and leases), and may step
 * when the clock is corrected; `mono()` never steps and measures durations, rate windows and how
 * long a lease this process holds is still surely its own.
 */
export interface Clock {
  now(): number;
  mono(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  // Whole milliseconds, like Date.now(): callers compare times read at different moments.
  mono: () => Math.floor(performance.now()),
  sleep: (ms, signal) => delay(Math.max(0, ms), undefined, signal ? { signal } : undefined),
};

/**
 * A clock that moves only when told: sleeps resolve in time order as `advance` passes them.
 * Drives schedules in tests and benchmarks without real waiting. `stepWall` moves only what time
 * it is (an NTP correction), not the monotonic time sleeps and durations follow.
 */
export class ManualClock implements Clock {
  private t: number;
  private wallOffset = 0;
  private timers: { at: number; resolve: () => void }[] = [];

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t + this.wallOffset;
  }

  mono(): number {
    return this.t;
  }

  stepWall(ms: number): void {
    this.wallOffset += ms;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.timers.push({ at: this.t + Math.max(0, ms), resolve });
      this.timers.sort((a, b) => a.at - b.at);
    });
  }

  /** Moves time forward, waking each sleeper at its own time and letting its continuation run. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await flushMicrotasks();
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.resolve();
    }
    this.t = end;
    await flushMicrotasks();
  }

  get pending(): number {
    return this.timers.length;
  }
}

async function flushMicrotasks(): Promise<void> {
  // A few macrotask turns let promise chains (including I/O-free async functions) settle.
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addSample, estimate, parseHistory, STALL_MS, type Estimate, type ProgressSample } from '../../src/domain/eta.js';
import { estimateText } from '../../src/cards/text.js';
import { pollDelay } from '../../src/watch/poll-plan.js';

/** A progress curve as a poller saw it: [seconds since start, percent] per poll, and when the task really ended. */
interface Curve {
  endSec: number;
  observations: [number, number][];
}
const curve = (name: string) => JSON.parse(readFileSync(join(import.meta.dirname, `../fixtures/progress/${name}.json`), 'utf8')) as Curve;

/** The estimate at `atSec`, from the observations up to then, kept as the engine keeps them. */
function at(c: Curve, atSec: number): Estimate | undefined {
  let h: ProgressSample[] = [];
  for (const [t, p] of c.observations) if (t <= atSec) h = addSample(h, t * 1000, p);
  return estimate(h, atSec * 1000);
}
const leftSec = (e: Estimate | undefined) => (e?.kind === 'eta' ? e.remainingMs / 1000 : undefined);
const within = (e: Estimate | undefined, truth: number, tolerance: number) => {
  const s = leftSec(e);
  expect(s, `estimate ${String(s)} for ${truth} s`).toBeDefined();
  expect(Math.abs(s! - truth) / truth).toBeLessThanOrEqual(tolerance);
};

describe('time left from recorded progress curves', () => {
  it('steady: close to the truth from early on', () => {
    const c = curve('steady');
    for (const t of [60, 200, 300, 450]) within(at(c, t), c.endSec - t, 0.1);
    expect(at(c, 10)).toBeUndefined(); // too little history to believe anything
  });

  it('bursty: within 40 % between the bursts, never hidden by the flat stretches', () => {
    const c = curve('bursty');
    for (const t of [130, 170, 245, 290, 400]) within(at(c, t), c.endSec - t, 0.4);
  });

  it('speeding up: hidden while the pace changes, then follows the new pace (not the old average)', () => {
    const c = curve('speeding-up');
    within(at(c, 300), (100 - 15) / 0.05, 0.1); // slow phase: honest about the slow pace
    expect(at(c, 650)).toBeUndefined(); // the knee: the line does not fit, nothing shown
    within(at(c, 700), c.endSec - 700, 0.3);
    // The old average pace (55 % in 700 s) would say about 570 s.
    expect(leftSec(at(c, 700))!).toBeLessThan(120);
  });

  it('stalled: says how long nothing moved once it is ten minutes, and estimates again when it moves', () => {
    const c = curve('stalled');
    within(at(c, 200), 400, 0.1); // before the stall, at the pace then
    expect(at(c, 240 + STALL_MS / 1000 - 5)?.kind).not.toBe('stalled');
    const e = at(c, 240 + STALL_MS / 1000 + 60);
    expect(e).toEqual({ kind: 'stalled', sinceMs: STALL_MS + 60_000 });
    expect(estimateText(e!, 'en')).toBe('no progress for 10 min');
    expect(estimateText({ kind: 'stalled', sinceMs: 16 * 60_000 }, 'zh')).toBe('已 15 分钟无进展');
    expect(estimateText({ kind: 'stalled', sinceMs: 130 * 60_000 }, 'en')).toBe('no progress for 2 h');
  });

  it('unknown progress (drive tasks), a finished task and a restarted task show nothing', () => {
    expect(addSample([], 1000, undefined)).toEqual([]);
    expect(estimate([], 1000)).toBeUndefined();
    expect(
      estimate(
        [
          [0, 10],
          [10_000, 50],
          [20_000, 100],
        ],
        30_000,
      ),
    ).toBeUndefined();
    // Progress that goes back starts the history again: no estimate from the old run.
    let h: ProgressSample[] = [
      [0, 10],
      [10_000, 20],
      [20_000, 30],
      [30_000, 40],
    ];
    h = addSample(h, 40_000, 5);
    expect(h).toEqual([[40_000, 5]]);
    expect(estimate(h, 45_000)).toBeUndefined();
  });

  it('irregular progress is too noisy to extrapolate', () => {
    // Long random pauses between uneven jumps: the line does not fit.
    const h: ProgressSample[] = [
      [0, 1],
      [5_000, 30],
      [200_000, 31],
      [205_000, 60],
      [206_000, 61],
    ];
    expect(estimate(h, 420_000)).toBeUndefined();
  });

  it('history keeps only moves, is bounded, and is read back leniently', () => {
    let h: ProgressSample[] = [];
    for (let i = 0; i < 100; i++) h = addSample(h, i * 1000, Math.floor(i / 2));
    expect(h.length).toBeLessThanOrEqual(24);
    expect(h.at(-1)).toEqual([98_000, 49]);
    expect(parseHistory(JSON.stringify(h))).toEqual(h);
    expect(parseHistory('not json')).toEqual([]);
    expect(parseHistory('[[1,"x"],[2,3]]')).toEqual([[2, 3]]);
    expect(parseHistory(null)).toEqual([]);
  });

  it('is rounded for people, so the card changes rarely', () => {
    expect(estimateText({ kind: 'eta', fit: 1, remainingMs: 20_000 }, 'zh')).toBe('预计不到 1 分钟');
    expect(estimateText({ kind: 'eta', fit: 1, remainingMs: 4.4 * 60_000 }, 'zh')).toBe('预计还需约 4 分钟');
    expect(estimateText({ kind: 'eta', fit: 1, remainingMs: 4.4 * 60_000 }, 'en')).toBe('about 4 min left');
    expect(estimateText({ kind: 'eta', fit: 1, remainingMs: 23 * 60_000 }, 'en')).toBe('about 25 min left');
    expect(estimateText({ kind: 'eta', fit: 1, remainingMs: 100 * 60_000 }, 'en')).toBe('about 1.5 h left');
  });

  it('feeds polling: a fifth of the time left, past 60 s only for a close fit (at most 10 min); without an estimate the backoff; interest caps the wait', () => {
    const o = { minMs: 2000, maxMs: 60_000 };
    const eta = (remainingMs: number, fit = 0.99) => ({ kind: 'eta' as const, remainingMs, fit });
    expect(pollDelay({ ...o, backoffMs: 2000, estimate: eta(5 * 3600_000) })).toBe(10 * 60_000);
    expect(pollDelay({ ...o, backoffMs: 2000, estimate: eta(5 * 3600_000, 0.9) })).toBe(60_000); // a loose fit waits no longer than usual
    expect(pollDelay({ ...o, backoffMs: 2000, estimate: eta(100_000) })).toBe(20_000);
    expect(pollDelay({ ...o, backoffMs: 32_000, estimate: eta(5000) })).toBe(2000); // the end is near, whatever the backoff
    expect(pollDelay({ ...o, backoffMs: 8000 })).toBe(8000);
    expect(pollDelay({ ...o, backoffMs: 8000, estimate: { kind: 'stalled', sinceMs: STALL_MS } })).toBe(8000);
    expect(pollDelay({ ...o, backoffMs: 60_000, estimate: eta(3600_000), interested: true })).toBe(5000);
  });
});

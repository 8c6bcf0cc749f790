/**
 * Time left, from a task's progress history. Samples are kept only when the percentage moves;
 * the estimate is a least-squares line through the recent ones (recent ones weigh more, so a task
 * that speeds up or slows down is followed), anchored at "now, same percentage" when the task has
 * been quiet for longer than its usual gap between moves, so a burst followed by a long quiet
 * spell does not look fast. It is shown only when it is worth believing (the line fits).
 */

/** `[at (ms), percent]`, oldest first. */
export type ProgressSample = [number, number];

export type Estimate =
  /** `fit`: how well the recent progress follows a line (R², 0.8…1). */
  | { kind: 'eta'; remainingMs: number; fit: number }
  /** No movement for `sinceMs` (at least STALL_MS). */
  | { kind: 'stalled'; sinceMs: number };

export const STALL_MS = 10 * 60_000;
const KEEP = 24;
const WINDOW_MS = 20 * 60_000;
const HALF_LIFE_MS = 2 * 60_000;
/** Below this fit quality the progress is too irregular to extrapolate. */
const MIN_R2 = 0.8;
const MIN_SPAN_MS = 6_000;
const MAX_ETA_MS = 48 * 3600_000;

/** The history with `percent` observed at `at` (kept only when it moved; bounded). */
export function addSample(history: readonly ProgressSample[], at: number, percent: number | undefined): ProgressSample[] {
  if (percent === undefined) return [...history];
  const last = history[history.length - 1];
  if (last && last[1] === percent) return [...history];
  // Progress that goes back (a restarted task) starts the history again.
  const kept = last && percent < last[1] ? [] : history.slice(-(KEEP - 1));
  return [...kept, [at, percent]];
}

export function estimate(history: readonly ProgressSample[], now: number): Estimate | undefined {
  const last = history[history.length - 1];
  if (!last || last[1] >= 100) return undefined;
  const quiet = now - last[0];
  if (quiet >= STALL_MS) return { kind: 'stalled', sinceMs: quiet };
  const recent = history.filter(([t]) => now - t <= WINDOW_MS);
  if (recent.length < 3 || now - recent[0]![0] < MIN_SPAN_MS) return undefined;
  // A quiet spell longer than the task's usual gap between moves is slowing it down: count it.
  const points: ProgressSample[] = quiet > 2 * medianGap(recent) ? [...recent, [now, last[1]]] : recent;
  const fit = weightedFit(points, now);
  if (!fit || fit.slope <= 0 || fit.r2 < MIN_R2) return undefined;
  // From where the line says the task is now: time spent since the last move counts (a task at
  // 99 % for a while is nearer its end than one that just got there).
  const remainingMs = Math.max(0, (100 - Math.max(last[1], fit.at(now))) / fit.slope);
  return remainingMs > MAX_ETA_MS ? undefined : { kind: 'eta', remainingMs, fit: fit.r2 };
}

function medianGap(samples: readonly ProgressSample[]): number {
  const gaps = samples
    .slice(1)
    .map(([t], i) => t - samples[i]![0])
    .sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)] ?? 0;
}

/** Weighted least squares of percent over time: slope in percent per ms, the fit's R², and the line. */
function weightedFit(points: readonly ProgressSample[], now: number): { slope: number; r2: number; at: (t: number) => number } | undefined {
  let sw = 0;
  let st = 0;
  let sp = 0;
  const w = points.map(([t]) => 2 ** (-(now - t) / HALF_LIFE_MS));
  points.forEach(([t, p], i) => {
    sw += w[i]!;
    st += w[i]! * t;
    sp += w[i]! * p;
  });
  const mt = st / sw;
  const mp = sp / sw;
  let stt = 0;
  let stp = 0;
  let spp = 0;
  points.forEach(([t, p], i) => {
    stt += w[i]! * (t - mt) ** 2;
    stp += w[i]! * (t - mt) * (p - mp);
    spp += w[i]! * (p - mp) ** 2;
  });
  if (stt === 0 || spp === 0) return undefined;
  const slope = stp / stt;
  return { slope, r2: (stp * stp) / (stt * spp), at: (t) => mp + slope * (t - mt) };
}

/** The history as stored (JSON), read leniently: anything unreadable is an empty history. */
export function parseHistory(json: string | null): ProgressSample[] {
  if (!json) return [];
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) ? v.filter((s): s is ProgressSample => Array.isArray(s) && typeof s[0] === 'number' && typeof s[1] === 'number') : [];
  } catch {
    return [];
  }
}

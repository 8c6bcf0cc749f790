import type { ProgressSample } from '../domain/eta.js';
import type { Block } from '../domain/card.js';
import { formatTime } from './text.js';

type ChartBlock = Extract<Block, { type: 'chart' }>;

/** Points a progress chart keeps at most (the history keeps 24): the card stays far under 30 KB. */
export const MAX_CHART_POINTS = 24;

/** Below this span the points are labelled to the second, above it one a clock minute. */
const MINUTES_FROM_MS = 5 * 60_000;

/**
 * Progress over time from the samples the time-left estimate keeps (one when the percentage
 * moves), labelled with the clock time in the chat's zone: to the minute once the samples span
 * five minutes (the last sample of a minute winning), to the second before. It changes only when
 * the percentage does, so it never makes a poll a visible change of its own.
 */
export function progressChart(history: readonly ProgressSample[], title: string, timeZone: string): ChartBlock | undefined {
  const span = history.length ? history.at(-1)![0] - history[0]![0] : 0;
  const byLabel = new Map<string, number>();
  for (const [at, percent] of history) byLabel.set(formatTime(new Date(at), timeZone).slice(11, span >= MINUTES_FROM_MS ? 16 : 19), percent);
  const points = [...byLabel].slice(-MAX_CHART_POINTS).map(([label, value]) => ({ label, value }));
  return points.length >= 2 ? { type: 'chart', kind: 'line', title, points, max: 100 } : undefined;
}

const LEVELS = '▁▂▃▄▅▆▇█';

/** A chart as one line of text: a sparkline (line) or labelled bars of blocks (bar). */
export function chartText(c: ChartBlock): string {
  const max = c.max ?? Math.max(1, ...c.points.map((p) => p.value));
  if (c.kind === 'line') {
    const spark = c.points.map((p) => LEVELS[Math.min(LEVELS.length - 1, Math.round((p.value / max) * (LEVELS.length - 1)))]).join('');
    return `${c.title}: ${spark} (${c.points[0]!.label}–${c.points.at(-1)!.label})`;
  }
  return [
    c.title,
    ...c.points.map((p) => [p.label, '█'.repeat(Math.max(p.value > 0 ? 1 : 0, Math.round((p.value / max) * 10))), p.value].filter((x) => x !== '').join(' ')),
  ].join('\n');
}

/**
 * The VChart spec Feishu's chart component draws, kept to what renders on mobile too (a plain line
 * or bar, no textures or gradients); the sandbox console draws the same spec.
 */
export function vchartSpec(c: ChartBlock): Record<string, unknown> {
  return {
    type: c.kind,
    title: { visible: true, text: c.title },
    data: [{ id: 'points', values: c.points.map((p) => ({ label: p.label, value: p.value })) }],
    xField: 'label',
    yField: 'value',
    ...(c.kind === 'line' ? { point: { visible: c.points.length <= 12 } } : { label: { visible: true } }),
    axes: [{ orient: 'left', min: 0, ...(c.max !== undefined && { max: c.max }) }, { orient: 'bottom' }],
  };
}

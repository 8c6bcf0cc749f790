import { describe, expect, it } from 'vitest';
import { chartText, MAX_CHART_POINTS, progressChart } from '../../src/cards/chart.js';
import { renderFeishuCard, FEISHU_CARD_MAX_BYTES } from '../../src/cards/feishu.js';
import { cardHash, taskCard } from '../../src/cards/task-card.js';
import { addSample, type ProgressSample } from '../../src/domain/eta.js';
import { feishuCardProblems } from '../helpers/feishu-card-rules.js';
import { RUNNING_CONTACT } from '../helpers/card-samples.js';

const TZ = 'Asia/Shanghai';
const T0 = Date.parse('2026-11-21T00:00:00Z');

describe('progress as a chart', () => {
  it('one point a clock minute (the later wins) once the samples span five minutes, to the second before; at most 24; in the chat zone', () => {
    const h: ProgressSample[] = [
      [T0, 1],
      [T0 + 20_000, 2],
      [T0 + 61_000, 3],
      [T0 + 300_000, 4],
    ];
    expect(progressChart(h, 'P', TZ)?.points).toEqual([
      { label: '08:00', value: 2 },
      { label: '08:01', value: 3 },
      { label: '08:05', value: 4 },
    ]);
    expect(progressChart(h.slice(0, 3), 'P', TZ)?.points).toEqual([
      { label: '08:00:00', value: 1 },
      { label: '08:00:20', value: 2 },
      { label: '08:01:01', value: 3 },
    ]);
    const long = Array.from({ length: 100 }, (_, i): ProgressSample => [T0 + i * 60_000, i]);
    const c = progressChart(long, 'P', TZ)!;
    expect(c.points).toHaveLength(MAX_CHART_POINTS);
    expect(c.points.at(-1)).toEqual({ label: '09:39', value: 99 });
    expect(progressChart([[T0, 5]], 'P', TZ)).toBeUndefined(); // one point is no curve
  });

  it('a poll that sees the same percentage changes nothing on the card (the history keeps no sample for it)', () => {
    let h: ProgressSample[] = [];
    for (const [i, p] of [0, 10, 20, 20, 20, 30].entries()) h = addSample(h, T0 + i * 90_000, p);
    const draw = (hist: ProgressSample[]) => cardHash(taskCard(RUNNING_CONTACT, { locale: 'en', timeZone: TZ, mode: 'live', history: hist }));
    const before = draw(h);
    expect(draw(addSample(h, T0 + 20 * 60_000, 30))).toBe(before);
    expect(draw(addSample(h, T0 + 20 * 60_000, 31))).not.toBe(before);
  });

  it('a card with a full chart and ten failed items stays far under 30 KB and keeps the JSON 2.0 rules; the final card keeps it', () => {
    const h = Array.from({ length: 24 }, (_, i): ProgressSample => [T0 + i * 60_000, i * 4]);
    for (const mode of ['live', 'final'] as const) {
      const json = renderFeishuCard(taskCard(RUNNING_CONTACT, { locale: 'zh', timeZone: TZ, mode, history: h }));
      const bytes = Buffer.byteLength(JSON.stringify(json));
      expect(bytes).toBeLessThan(FEISHU_CARD_MAX_BYTES / 3);
      expect(feishuCardProblems(json)).toEqual([]);
      expect(JSON.stringify(json)).toContain('"tag":"chart"');
    }
  });

  it('as text where the platform cannot chart: a sparkline, and bars of blocks', () => {
    expect(
      chartText({
        type: 'chart',
        kind: 'line',
        title: 'P',
        points: [
          { label: '08:00', value: 0 },
          { label: '08:05', value: 50 },
          { label: '08:09', value: 100 },
        ],
        max: 100,
      }),
    ).toBe('P: ▁▅█ (08:00–08:09)');
    expect(
      chartText({
        type: 'chart',
        kind: 'bar',
        title: 'By outcome',
        points: [
          { label: 'ok', value: 4 },
          { label: 'failed', value: 0 },
          { label: 'partly', value: 2 },
        ],
      }),
    ).toBe('By outcome\nok ██████████ 4\nfailed 0\npartly █████ 2');
  });
});

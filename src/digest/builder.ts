import type { ReportSubmission } from '../domain/report.js';
import { snapshotFromJson } from '../domain/snapshot-json.js';
import type { TaskSnapshot, TaskState } from '../domain/task.js';
import { fill, messages } from '../i18n/messages.js';
import type { Locale } from '../domain/locale.js';
import { cardTexts } from '../i18n/card-texts.js';
import { formatTime } from '../cards/text.js';
import { clip, type Block, type CardModel } from '../domain/card.js';

/** Lines per group before "and N more". */
const MAX_GROUP_LINES = 15;

export function taskLine(s: TaskSnapshot, locale: Locale): string {
  const m = messages(locale);
  const pct = s.progress === undefined ? '' : ` · ${s.progress}%`;
  const counts = s.total === undefined ? '' : ` · ${(s.succeeded ?? 0) + (s.failed ?? 0)}/${s.total}`;
  return `${m.kind[s.ref.kind]} ${clip(s.ref.id, 40)} · ${m.state[s.state]}${pct}${counts}`;
}

/** Distinct task snapshots from a chat's card rows (newest card first wins). */
export function chatTasks(rows: { task_key: string; snapshot: string }[]): TaskSnapshot[] {
  const seen = new Map<string, TaskSnapshot>();
  for (const r of rows) if (!seen.has(r.task_key)) seen.set(r.task_key, snapshotFromJson(r.snapshot));
  return [...seen.values()];
}

export interface ReportSummary {
  from: Date;
  to: Date;
  submissions?: ReportSubmission[];
  /** Why the report section could not be built, for people. */
  unavailable?: string;
}

export function reportBlocks(r: ReportSummary, locale: Locale, timeZone: string): Block[] {
  const t = cardTexts(locale);
  const title = fill(t.reportsSection, { from: formatTime(r.from, timeZone).slice(0, 16), to: formatTime(r.to, timeZone).slice(0, 16) });
  if (r.unavailable) return [{ type: 'list', title, items: [fill(t.reportsUnavailable, { reason: r.unavailable })], more: 0 }];
  const perRule = new Map<string, number>();
  for (const s of r.submissions ?? []) perRule.set(s.ruleName || '—', (perRule.get(s.ruleName || '—') ?? 0) + 1);
  const lines = [...perRule.entries()].sort((a, b) => b[1] - a[1]).map(([rule, n]) => fill(t.reportsLine, { rule: clip(rule, 60), n }));
  return [
    { type: 'list', title, items: lines.slice(0, MAX_GROUP_LINES), more: Math.max(0, lines.length - MAX_GROUP_LINES) },
    { type: 'text', text: fill(t.reportsTotal, { n: r.submissions?.length ?? 0 }) },
  ];
}

const GROUPS: { key: 'groupSucceeded' | 'groupPartial' | 'groupFailed' | 'groupRunning'; states: TaskState[] }[] = [
  { key: 'groupSucceeded', states: ['succeeded'] },
  { key: 'groupPartial', states: ['partial'] },
  { key: 'groupFailed', states: ['failed'] },
  { key: 'groupRunning', states: ['queued', 'running'] },
];

/** The digest: this chat's tasks since `since`, grouped by outcome, and (Feishu) a report section. */
export function digestCard(tasks: TaskSnapshot[], o: { locale: Locale; timeZone: string; since: Date; reports?: ReportSummary }): CardModel {
  const t = cardTexts(o.locale);
  const blocks: Block[] = [{ type: 'text', text: fill(t.digestSince, { since: formatTime(o.since, o.timeZone).slice(0, 16) }) }];
  const groups = GROUPS.map((g) => ({ title: t[g.key], tasks: tasks.filter((s) => g.states.includes(s.state)) }));
  // The period's tasks by outcome, drawn as bars where the platform charts.
  if (tasks.length > 0)
    blocks.push({ type: 'chart', kind: 'bar', title: t.chartOutcomes, points: groups.map((g) => ({ label: g.title, value: g.tasks.length })) });
  for (const g of groups) {
    const lines = g.tasks.map((s) => taskLine(s, o.locale));
    if (lines.length > 0)
      blocks.push({
        type: 'list',
        title: `${g.title} (${lines.length})`,
        items: lines.slice(0, MAX_GROUP_LINES),
        more: Math.max(0, lines.length - MAX_GROUP_LINES),
      });
  }
  if (tasks.length === 0) blocks.push({ type: 'text', text: t.digestEmpty });
  if (o.reports) blocks.push(...reportBlocks(o.reports, o.locale, o.timeZone));
  const anyFailed = tasks.some((s) => s.state === 'failed' || s.state === 'partial');
  return { type: 'digest', locale: o.locale, title: t.digestTitle, color: anyFailed ? 'orange' : 'blue', blocks };
}

import { maskEmail, maskMobile } from '../domain/mask.js';
import type { TaskSnapshot } from '../domain/task.js';
import type { TaskbotError } from '../domain/errors.js';
import { progressBar } from '../cards/progress-bar.js';
import { countsText, formatTime } from '../cards/text.js';
import { errorLine, fill, labelText, messages } from '../i18n/messages.js';
import type { Locale } from '../domain/locale.js';

export { formatTime };

export interface FormatOptions {
  locale: Locale;
  timeZone: string;
  /** How many failed items to list before "and N more". */
  maxItems?: number;
}

const PLATFORM_NAME = { feishu: 'Feishu', dingtalk: 'DingTalk' } as const;

/** Terminal text for a snapshot: state, a progress bar, counts, failed items and times. */
export function formatSnapshot(s: TaskSnapshot, o: FormatOptions): string[] {
  const m = messages(o.locale);
  const pad = (w: string) => w.padEnd(o.locale === 'zh' ? 6 : 10);
  const lines = [
    `${PLATFORM_NAME[s.ref.platform]} · ${m.kind[s.ref.kind]} ${s.ref.id}`,
    labelText(o.locale, s.label),
    `${pad(m.words.state)}${m.state[s.state]}`,
    `${pad(m.words.progress)}${progressBar(s.progress)} ${s.progress === undefined ? '—' : `${s.progress}%`}`,
  ];
  const counts = countsText(s, o.locale);
  if (counts) lines.push(`${pad(m.words.counts)}${counts}`);
  if (s.startedAt) lines.push(`${pad(m.words.started)}${formatTime(s.startedAt, o.timeZone)}`);
  if (s.finishedAt) lines.push(`${pad(m.words.finished)}${formatTime(s.finishedAt, o.timeZone)}`);
  if (s.failureReason) lines.push(`${pad(m.words.reason)}${s.failureReason}`);
  const failedItems = (s.items ?? []).filter((i) => !i.ok);
  if (failedItems.length > 0) {
    const max = o.maxItems ?? 10;
    lines.push(m.words.failedItems);
    for (const i of failedItems.slice(0, max)) {
      const contact = [i.email && maskEmail(i.email), i.mobile && maskMobile(i.mobile)].filter(Boolean).join(', ');
      const why = [i.code, i.message].filter(Boolean).join(' ');
      lines.push(`  ✗ ${i.name}${why ? ` — ${why}` : ''}${contact ? ` (${contact})` : ''}`);
    }
    const more = Math.max(failedItems.length, s.failed ?? 0) - Math.min(max, failedItems.length);
    if (more > 0) lines.push(`  … ${fill(m.words.andMore, { n: more })}`);
  }
  return lines;
}

/** One line for a watch redraw when the output is not a terminal. */
export function progressLine(s: TaskSnapshot, o: FormatOptions): string {
  const m = messages(o.locale);
  const counts = countsText(s, o.locale);
  return [formatTime(s.fetchedAt, o.timeZone).slice(11), m.state[s.state], `${progressBar(s.progress)} ${s.progress ?? '—'}%`, counts]
    .filter(Boolean)
    .join('  ');
}

/** A typed error for people: the line every answer gives (messages.ts errorLine), then the scopes to grant. */
export function formatError(e: TaskbotError, locale: Locale): string[] {
  const m = messages(locale);
  const lines = [errorLine(e, locale)];
  if (e.details.scopes?.length) lines.push(`  ${m.words.scopes}: ${e.details.scopes.join(' | ')}`);
  return lines;
}

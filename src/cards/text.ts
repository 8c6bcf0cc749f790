import type { Estimate } from '../domain/eta.js';
import type { TaskSnapshot } from '../domain/task.js';
import { cardTexts } from '../i18n/card-texts.js';
import { fill, messages } from '../i18n/messages.js';
import type { Locale } from '../domain/locale.js';

const formatters = new Map<string, Intl.DateTimeFormat>();

/** "2026-11-21 18:00:00" in the given zone (sv-SE writes ISO-like dates). */
export function formatTime(d: Date, timeZone: string): string {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('sv-SE', { timeZone, dateStyle: 'short', timeStyle: 'medium' });
    formatters.set(timeZone, f);
  }
  return f.format(d);
}

export function countsText(s: TaskSnapshot, locale: Locale): string | undefined {
  if (s.total === undefined && s.succeeded === undefined) return undefined;
  const m = messages(locale).words;
  const done = (s.succeeded ?? 0) + (s.failed ?? 0);
  const total = s.total === undefined ? '' : `/${s.total}`;
  return `${done}${total} ${m.done} · ${s.succeeded ?? 0} ${m.succeeded} · ${s.failed ?? 0} ${m.failed}`;
}

/** An estimate as people read it, rounded so the card does not change with every poll. */
export function estimateText(e: Estimate, locale: Locale): string {
  const t = cardTexts(locale);
  const min = e.kind === 'eta' ? e.remainingMs / 60_000 : e.sinceMs / 60_000;
  if (e.kind === 'stalled') {
    const shown = min < 60 ? ([10, 15, 20, 30, 45].findLast((b) => b <= min) ?? 10) : Math.floor(min / 60);
    return fill(min < 60 ? t.stalledMinutes : t.stalledHours, { n: shown });
  }
  if (min < 1) return t.etaUnderMinute;
  if (min < 60) return fill(t.etaMinutes, { n: min < 10 ? Math.round(min) : Math.round(min / 5) * 5 });
  return fill(t.etaHours, { n: Math.round(min / 30) / 2 });
}

import type { TaskSnapshot } from '../domain/task.js';
import { messages, type Locale } from '../i18n/messages.js';

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


import { createHash } from 'node:crypto';
import { maskEmail, maskMobile } from '../domain/mask.js';
import { KINDS_WITH_ROWS, refKey, type TaskSnapshot, type TaskState } from '../domain/task.js';
import { fill, labelText, messages } from '../i18n/messages.js';
import type { Locale } from '../domain/locale.js';
import { cardTexts } from '../i18n/card-texts.js';
import type { Estimate, ProgressSample } from '../domain/eta.js';
import { progressChart } from './chart.js';
import { countsText, estimateText, formatTime } from './text.js';
import { progressBar } from './progress-bar.js';
import { clip, type CardButton, type CardColor, type CardModel } from '../domain/card.js';

export const STATE_COLOR: Record<TaskState, CardColor> = {
  queued: 'grey',
  running: 'blue',
  succeeded: 'green',
  partial: 'orange',
  failed: 'red',
};

/** How many failed items a card lists before "and N more". */
export const MAX_CARD_ITEMS = 10;

/**
 * live: updating, with Refresh and Stop; final: the task ended; stopped: someone pressed Stop;
 * expired: 24 h without an end; retrying: the last poll failed transiently; error: the watch
 * ended on an error (not found, no permission) shown in the note.
 */
export type TaskCardMode = 'live' | 'final' | 'stopped' | 'expired' | 'retrying' | 'error';

export interface TaskCardOptions {
  locale: Locale;
  timeZone: string;
  mode: TaskCardMode;
  /** Chats allowed to see contact details unmasked. */
  showContacts?: boolean;
  /** For mode 'retrying': the error code to name. */
  errorCode?: string;
  /** For mode 'error': what went wrong, for people. */
  errorText?: string;
  /** Live cards: the time left (or how long nothing moved), when it is worth showing. */
  estimate?: Estimate;
  /** How many people wait to be told when the task ends. */
  waiting?: number;
  /** A title of the card's own (the script API's), instead of the task's kind and id. */
  title?: string;
  /** Progress samples (the time-left estimate's): drawn as a chart of progress over time. */
  history?: readonly ProgressSample[];
}

export function taskCard(s: TaskSnapshot, o: TaskCardOptions): CardModel {
  const m = messages(o.locale);
  const t = cardTexts(o.locale);
  const fields = [{ label: m.words.state, value: m.state[s.state] }];
  const counts = countsText(s, o.locale);
  if (counts) fields.push({ label: m.words.counts, value: counts });
  if (s.startedAt) fields.push({ label: m.words.started, value: formatTime(s.startedAt, o.timeZone) });
  if (s.finishedAt) fields.push({ label: m.words.finished, value: formatTime(s.finishedAt, o.timeZone) });
  if (s.failureReason) fields.push({ label: m.words.reason, value: clip(s.failureReason, 300) });

  const failed = (s.items ?? []).filter((i) => !i.ok);
  // The card keeps some failed rows; the upstream counts them all.
  const failedCount = Math.max(failed.length, s.failed ?? 0);
  const items = failed.slice(0, MAX_CARD_ITEMS).map((i) => {
    const contact = [i.email, i.mobile]
      .filter((v): v is string => Boolean(v))
      .map((v) => (o.showContacts ? v : v.includes('@') ? maskEmail(v) : maskMobile(v)))
      .join(', ');
    const why = [i.code, i.message && clip(i.message, 120)].filter(Boolean).join(' ');
    return `${clip(i.name, 64)}${why ? ` — ${why}` : ''}${contact ? ` (${contact})` : ''}`;
  });

  const note = {
    live: undefined,
    final: undefined,
    stopped: t.noteStopped,
    expired: t.noteExpired,
    retrying: fill(t.noteRetrying, { code: o.errorCode ?? '' }),
    error: o.errorText,
  }[o.mode];
  const live = o.mode === 'live' || o.mode === 'retrying';
  // Every failed row as a file, where the upstream lists them, once there are failures.
  const exportable = KINDS_WITH_ROWS.includes(s.ref.kind) && failedCount > 0;
  const exportButton: CardButton[] = exportable ? [{ action: 'export', label: t.exportFailed, style: 'default' }] : [];
  const buttons: CardButton[] =
    o.mode === 'final'
      ? exportButton
      : live
        ? [
            { action: 'refresh', label: t.refresh, style: 'primary' },
            { action: 'stop', label: t.stop, style: 'default' },
            { action: 'notify', label: t.notify, style: 'default' },
            ...exportButton,
          ]
        : [{ action: 'refresh', label: t.refresh, style: 'primary' }, ...exportButton];
  const percent = `${progressBar(s.progress)} ${s.progress === undefined ? '—' : `${s.progress}%`}`;
  const waiting = live && o.waiting ? [{ type: 'text' as const, text: fill(t.waiting, { n: o.waiting }) }] : [];
  const chart = o.history && progressChart(o.history, t.chartProgress, o.timeZone);

  return {
    type: 'task',
    locale: o.locale,
    title: taskTitle(s.ref, o.locale, o.title),
    color: STATE_COLOR[s.state],
    blocks: [
      { type: 'text', text: labelText(o.locale, s.label) },
      { type: 'progress', percent: s.progress, text: live && o.estimate ? `${percent} · ${estimateText(o.estimate, o.locale)}` : percent },
      ...(chart ? [chart] : []),
      { type: 'fields', fields },
      ...waiting,
      ...(items.length > 0
        ? [{ type: 'list' as const, title: `${m.words.failedItems} (${failedCount})`, items, more: failedCount - items.length, folded: true }]
        : []),
    ],
    ...(note && { note }),
    ...(buttons.length > 0 && { buttons }),
    taskKey: refKey(s.ref),
    state: s.state,
    ...(o.mode !== 'live' && o.mode !== 'retrying' && { final: true }),
  };
}

/** A task card's title: its own (a script's), else the task's kind and id. */
export function taskTitle(ref: TaskSnapshot['ref'], locale: Locale, own?: string | null): string {
  return own ? clip(own, 100) : fill(cardTexts(locale).taskTitle, { kind: messages(locale).kind[ref.kind], id: ref.id });
}

/**
 * The same card, smaller: no item list, texts clipped. Sent once when the platform refuses a card
 * for its content (too long, a component it will not take), before giving up on that card.
 */
export function compactCard(card: CardModel): CardModel {
  return {
    ...card,
    blocks: card.blocks.filter((b) => b.type !== 'list').map((b) => (b.type === 'text' ? { ...b, text: clip(b.text, 200) } : b)),
    ...(card.note && { note: clip(card.note, 200) }),
  };
}

/** A stable digest of a card's content: equal hashes mean nothing visible changed. */
export function cardHash(card: CardModel): string {
  return createHash('sha1').update(JSON.stringify(card)).digest('hex');
}

import type { TaskbotError } from '../domain/errors.js';
import { messages } from '../i18n/messages.js';
import type { Locale } from '../domain/locale.js';
import { cardTexts } from '../i18n/card-texts.js';
import { clip, type Block, type CardColor, type CardModel } from '../domain/card.js';

/** A short answer: a title and a line or two. */
export function noticeCard(locale: Locale, text: string, opts: { title?: string; color?: CardColor; type?: CardModel['type'] } = {}): CardModel {
  return { type: opts.type ?? 'notice', locale, title: opts.title ?? 'taskbot', color: opts.color ?? 'blue', blocks: [{ type: 'text', text }] };
}

/** A typed error told to people: what it means, its stable code, and what to grant when it is a scope. */
export function errorCard(err: TaskbotError, locale: Locale): CardModel {
  const m = messages(locale);
  const title = cardTexts(locale).errorTitle;
  // Our own faults: an apology and the id to quote, never the raw message.
  if (err.code === 'INTERNAL') {
    return {
      type: 'error',
      locale,
      title,
      color: 'red',
      blocks: [
        { type: 'text', text: m.error.INTERNAL },
        {
          type: 'fields',
          fields: [
            { label: 'code', value: err.code },
            { label: m.words.errorId, value: err.details.errorId ?? '—' },
          ],
        },
      ],
    };
  }
  const fields: { label: string; value: string }[] = [{ label: 'code', value: err.code }];
  if (err.details.taskId) fields.push({ label: m.words.task, value: clip(err.details.taskId, 64) });
  if (err.details.scopes?.length) fields.push({ label: m.words.scopes, value: err.details.scopes.join(' | ') });
  const blocks: Block[] = [
    { type: 'text', text: m.error[err.code] },
    { type: 'fields', fields },
    { type: 'text', text: clip(err.message, 300) },
  ];
  return { type: 'error', locale, title, color: 'red', blocks };
}

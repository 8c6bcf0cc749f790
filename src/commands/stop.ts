import { noticeCard } from '../cards/notices.js';
import { fill } from '../i18n/messages.js';
import { cardTexts } from '../i18n/card-texts.js';
import { clip } from '../domain/card.js';
import { parseStatusArgs } from './parse.js';
import type { Answer, HandlerInput } from './context.js';

/** `stop <id> [kind]` or `stop <kind> <id>` (parsed like status): stop updating that task's cards in this chat. */
export async function stopCommand({ args, chat, locale, deps }: HandlerInput): Promise<Answer> {
  const t = cardTexts(locale);
  const { id, kind, notify, extra } = parseStatusArgs(args);
  if (notify) extra.push('notify');
  if (!id) return { card: noticeCard(locale, t.missingId, { color: 'orange', type: 'error' }) };
  if (extra.length > 0) return { card: noticeCard(locale, fill(t.stopUsage, { input: clip(extra.join(' '), 40) }), { color: 'orange', type: 'error' }) };
  const n = await deps.engine.stopInChat(chat, id, kind);
  return { card: noticeCard(locale, n > 0 ? fill(t.stopDone, { n }) : fill(t.stopNone, { id: id.slice(0, 64) }), { color: n > 0 ? 'grey' : 'orange' }) };
}

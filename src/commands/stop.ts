import { noticeCard } from '../cards/notices.js';
import { fill } from '../i18n/messages.js';
import { cardTexts } from '../i18n/card-texts.js';
import type { Answer, HandlerInput } from './context.js';

/** `stop <id>`: stop updating that task's cards in this chat. */
export async function stopCommand({ args, chat, locale, deps }: HandlerInput): Promise<Answer> {
  const t = cardTexts(locale);
  const id = args[0];
  if (!id) return { card: noticeCard(locale, t.missingId, { color: 'orange', type: 'error' }) };
  const n = await deps.engine.stopInChat(chat, id);
  return { card: noticeCard(locale, n > 0 ? fill(t.stopDone, { n }) : fill(t.stopNone, { id: id.slice(0, 64) }), { color: n > 0 ? 'grey' : 'orange' }) };
}

import { noticeCard } from '../cards/notices.js';
import type { CardModel } from '../domain/card.js';
import type { Messengers } from '../domain/chat.js';
import { adminProblem, asTaskbotError, needsAdmin } from '../domain/errors.js';
import { cardTexts } from '../i18n/card-texts.js';
import { fill } from '../i18n/messages.js';
import { blockPins, getChatSettings } from '../store/chat-settings.js';
import type { CardRow } from '../store/store.js';
import { handleOf } from './mentions.js';
import type { WriteDeps } from './write-failures.js';

export interface PinDeps extends WriteDeps {
  messengers: Messengers;
}

/**
 * Pinned exactly while active in a chat that asked for it (`pin on`): pins or unpins as the card
 * now is. The card remembers a pin of ours, so an ended one is unpinned by whichever holder comes
 * next (its task stays due until then). A pin refused for want of the admin stops pinning in that
 * chat, told there once; anything else refused for good is given up; passing failures wait for
 * the next round.
 */
export async function syncPin(d: PinDeps, c: CardRow, chatWants: boolean, guard: () => Promise<void>, model: () => CardModel): Promise<void> {
  const m = d.messengers[c.app];
  const have = c.pinned === 1;
  const want = chatWants && c.status === 'active' && !m?.cannotPin?.({ app: c.app, platform: c.platform, chatId: c.chat_id });
  if (want === have || !m?.pin || !m.unpin) return;
  const chat = { app: c.app, platform: c.platform, chatId: c.chat_id };
  // Refused in this chat since the round read its cards (another card, another replica): not asked again.
  if (want && (await getChatSettings(d.store, chat)).pinBlocked) return;
  await guard();
  try {
    await (want ? m.pin(handleOf(c), model()) : m.unpin(handleOf(c)));
    await d.store.cards.recordPinned(c.card_key, want ? 1 : 0);
  } catch (e) {
    const er = asTaskbotError(e);
    if (er.retryable) return void d.logger?.info({ code: er.code, card: c.card_key }, `${want ? 'pin' : 'unpin'} failed; tried again next round`);
    if (have) await d.store.cards.recordPinned(c.card_key, 0);
    if (!needsAdmin(er))
      return void d.logger?.warn(
        { code: er.code, err: er.toJSON(), card: c.card_key },
        `the platform refused to ${want ? 'pin' : 'unpin'} a card; left as it is`,
      );
    const problem = adminProblem(er);
    if (!(await blockPins(d.store, chat, problem, d.clock.now()))) return; // told already
    d.logger?.error({ code: er.code, err: er.toJSON(), chat: c.chat_id }, `pinning in this chat waits for the admin (${problem})`);
    await m
      .send(chat, noticeCard(c.locale, fill(cardTexts(c.locale).pinBlocked, { problem }), { color: 'orange', type: 'error' }))
      .catch((e2: unknown) =>
        d.logger?.warn({ err: asTaskbotError(e2).toJSON(), chat: c.chat_id }, 'could not tell the chat that pinning waits for the admin'),
      );
  }
}

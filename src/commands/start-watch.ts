import { taskCard } from '../cards/task-card.js';
import type { CardModel } from '../domain/card.js';
import { cardKey, messengerOf, type CardHandle, type ChatRef, type ReplyContext } from '../domain/chat.js';
import { asTaskbotError, type TaskbotError } from '../domain/errors.js';
import { isTerminal, type TaskSnapshot } from '../domain/task.js';
import { errorLine } from '../i18n/messages.js';
import type { CardOrigin } from '../watch/lifecycle.js';
import type { CommandDeps } from './deps.js';

export interface WatchStart {
  chat: ChatRef;
  /** The task as just read, and its card as drawn from it (in the chat's language). */
  snap: TaskSnapshot;
  card: CardModel;
  reply?: ReplyContext;
  /** Who asked for it (none: a script), or a script's own title. */
  origin: CardOrigin;
  /** People mentioned when the task ends (a live task only). */
  waiting?: readonly string[];
}

/**
 * The one way a live card starts, whoever asks (`status`, the form, the script API, `taskbot
 * watch`): send it, watch it, add who waits for its end. When watching cannot start (the store
 * failing) the card is drawn again as an error: it never looks live while nothing updates it.
 * Resolves with the card and, then, why it is not watched.
 */
export async function startWatch(
  deps: Pick<CommandDeps, 'watch' | 'messengers' | 'settings' | 'logger'>,
  w: WatchStart,
): Promise<{ handle: CardHandle; failed?: TaskbotError }> {
  const messenger = messengerOf(deps.messengers, w.chat.app);
  const handle = await messenger.send(w.chat, w.card, w.reply);
  const { locale } = w.card;
  try {
    await deps.watch.track(handle, w.snap, locale, w.card, w.origin);
    if (!isTerminal(w.snap.state)) for (const u of w.waiting ?? []) await deps.watch.subscribe(cardKey(handle), u);
    return { handle };
  } catch (e) {
    const err = asTaskbotError(e);
    deps.logger?.error({ code: err.code, err: err.toJSON(), chat: w.chat.chatId }, 'could not start watching a card; it shows the error');
    const errorCard = taskCard(w.snap, {
      locale,
      timeZone: deps.settings.of(w.chat.app).timeZone,
      mode: 'error',
      errorText: errorLine(err, locale),
      ...(w.origin.title && { title: w.origin.title }),
    });
    await messenger
      .update(handle, errorCard)
      .catch((e2: unknown) => deps.logger?.error({ err: asTaskbotError(e2).toJSON(), chat: w.chat.chatId }, 'could not show that a card is not watched'));
    return { handle, failed: err };
  }
}

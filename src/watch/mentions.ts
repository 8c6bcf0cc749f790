import { taskTitle } from '../cards/task-card.js';
import { countsText } from '../cards/text.js';
import { messengerOf, type CardHandle, type Messengers } from '../domain/chat.js';
import { asTaskbotError } from '../domain/errors.js';
import type { TaskSnapshot } from '../domain/task.js';
import { isPlatformUserId } from '../domain/user-id.js';
import { cardTexts } from '../i18n/card-texts.js';
import { fill, messages } from '../i18n/messages.js';
import type { CardRow } from '../store/store.js';
import { retryLater, type WriteDeps } from './write-failures.js';

export interface MentionDeps extends WriteDeps {
  messengers: Messengers;
  /** Who holds the task's lease: the mention is begun only while it does. */
  owner: string;
}

/**
 * A finished task's card tells the people waiting on it, once, under the task's lease (no two
 * senders). The intent is recorded first: whoever holds the task after a crash, a lost lease or a
 * mention that may or may not have gone out knows it may have. Where the platform dedupes repeats
 * (Feishu, by a key derived from the card and the people) it is sent again; where it cannot
 * (DingTalk), it is never repeated, only logged. A refusal that waits for the admin waits with
 * the card; other failures back off with it, and permanent ones are logged and given up.
 */
export async function mentionWaiting(d: MentionDeps, c: CardRow, snap: TaskSnapshot, later: (at: number) => void, guard: () => Promise<void>): Promise<void> {
  const owed = await d.store.subscribers.owed(c.card_key);
  if (owed.length === 0) return;
  const messenger = d.messengers[c.app];
  const repeats = messenger?.dedupesRepeats === true;
  const begun = owed.filter((o) => o.begun).map((o) => o.userId);
  if (begun.length > 0 && !repeats) {
    d.logger?.warn(
      { card: c.card_key, users: begun.length },
      'an earlier holder may have mentioned the people waiting already (it never said how it went); not repeated: the platform cannot deduplicate it',
    );
    await d.store.subscribers.markNotified(c.card_key, begun, d.clock.now());
  }
  await guard();
  const fresh = await d.store.subscribers.beginMention(c.card_key, c.task_key, d.owner, d.clock.now());
  const all = (repeats ? [...begun, ...fresh] : fresh).sort();
  if (all.length === 0) return;
  // Only ids of the platform's shape are mentioned; the rest are settled with them, never owed forever.
  const users = all.filter(isPlatformUserId);
  const counts = countsText(snap, c.locale);
  const title = taskTitle(snap.ref, c.locale, c.title);
  const text = fill(cardTexts(c.locale).notifyMessage, { title, state: messages(c.locale).state[snap.state], counts: counts ? ` (${counts})` : '' });
  try {
    if (users.length > 0) await messengerOf(d.messengers, c.app).mention(handleOf(c), users, text, `${c.card_key}:notify:${users.join(',')}`);
    d.alerts.cleared(c.app, d.clock.now());
  } catch (e) {
    const er = asTaskbotError(e);
    if (er.details.ambiguous && !repeats) {
      d.logger?.warn(
        { code: er.code, err: er.toJSON(), card: c.card_key, users: users.length },
        'the mention may have gone out (no answer in time); not repeated: the platform cannot deduplicate it',
      );
    } else if (await retryLater(d, c, er, later)) {
      return d.store.subscribers.forgetMention(c.card_key, fresh);
    } else {
      d.logger?.error({ code: er.code, err: er.toJSON(), card: c.card_key, users: users.length }, 'could not mention the people waiting for a task; given up');
    }
  }
  await d.store.subscribers.markNotified(c.card_key, all, d.clock.now());
}

/** The card as the platform knows it. */
export function handleOf(card: CardRow): CardHandle {
  return {
    app: card.app,
    platform: card.platform,
    chatId: card.chat_id,
    handle: card.handle,
    ...(card.meta && { meta: JSON.parse(card.meta) as Record<string, unknown> }),
    ...(card.pinned === 1 && { pinned: true }),
  };
}

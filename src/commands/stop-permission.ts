import { asTaskbotError } from '../domain/errors.js';
import type { Platform } from '../domain/task.js';
import { mayStop, type StopRule, type StopVerdict } from '../domain/stop-rule.js';
import type { CommandDeps } from './context.js';

export interface StoppableCard {
  platform: Platform;
  chatId: string;
  /** Who asked for it; null: a script posted it. */
  askedBy: string | null;
}

/**
 * Whether `userId` may stop the card, by its chat's rule (read when the caller does not have it);
 * the group's roles are read from the platform only when needed.
 */
export async function checkStop(deps: Pick<CommandDeps, 'settings' | 'messengers' | 'chats' | 'logger'>, card: StoppableCard, userId: string | undefined, chatRule?: StopRule): Promise<StopVerdict> {
  const rule = chatRule ?? (await deps.chats.get({ platform: card.platform, chatId: card.chatId })).stopRule ?? 'asker';
  return mayStop({ askedBy: card.askedBy, ...(userId && { userId }), admins: deps.settings.adminUserIds, rule }, async () => {
    const m = deps.messengers[card.platform];
    if (!m?.chatRoles) return undefined;
    try {
      return await m.chatRoles(card.chatId);
    } catch (e) {
      const err = asTaskbotError(e);
      deps.logger?.warn({ code: err.code, err: err.toJSON(), chat: card.chatId }, "could not read the group's owner and managers; the asker and admins decide");
      return undefined;
    }
  });
}

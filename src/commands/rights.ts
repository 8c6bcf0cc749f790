import type { ChatRef } from '../domain/chat.js';
import { withDeadline } from '../domain/deadline.js';
import { asTaskbotError } from '../domain/errors.js';
import { decide, type Action, type Actor, type ChatRoles, type Refusal, type StopRule, type Verdict } from '../domain/policy.js';
import { cardTexts } from '../i18n/card-texts.js';
import { fill } from '../i18n/messages.js';
import type { Locale } from '../domain/locale.js';
import { noticeCard } from '../cards/notices.js';
import type { Answer, CommandDeps, HandlerInput } from './deps.js';

export type RightsDeps = Pick<CommandDeps, 'settings' | 'messengers' | 'chats' | 'logger'>;

export interface RightsQuestion {
  action: Action;
  actor: Actor;
  chat: ChatRef & { chatType?: 'group' | 'p2p' };
  /** The card acted on (stop, resume). */
  card?: { askedBy: string | null };
  /** The chat's stop rule when the caller has read it already. */
  stopRule?: StopRule;
}

/**
 * Asks the policy (domain/policy.ts), with what it needs from the operator's settings, the chat's
 * own (its stop rule, read only when asked) and the platform (the group's roles, likewise).
 */
export function may(deps: RightsDeps, q: RightsQuestion): Promise<Verdict> {
  const { chat } = q;
  return decide({
    action: q.action,
    actor: q.actor,
    chatId: chat.chatId,
    ...(chat.chatType && { chatType: chat.chatType }),
    ...(q.card && { card: q.card }),
    admins: deps.settings.of(chat.app).adminUserIds,
    allowedChats: deps.settings.of(chat.app).allowedChatIds,
    stopRule: async () => q.stopRule ?? (await deps.chats.get(chat)).stopRule ?? 'asker',
    roles: () => rolesOf(deps, chat),
  });
}

/** A person as a command or a press names them ('' when the platform did not say). */
export const person = (userId: string | undefined): Actor => ({ kind: 'person', ...(userId && { userId }) });

/** What a refused person is told, in the chat's language. */
export function refusalText(locale: Locale, refusal: Refusal, chatId: string): string {
  const t = cardTexts(locale);
  return {
    chat: fill(t.notAllowed, { chat: chatId }),
    asker: t.toastStopAsker,
    admins: t.toastStopAdmins,
    owners: t.ownersOnly,
    configure: t.adminOnly,
    group: t.mineGroupOnly,
  }[refusal];
}

/** How long a decision waits for the group's roles (the lookup goes on and is kept for the next). */
const ROLES_DEADLINE_MS = 800;

/** The group's owner and managers; undefined when the platform does not tell a bot, or cannot now (logged). */
async function rolesOf(deps: RightsDeps, chat: ChatRef): Promise<ChatRoles | undefined> {
  const m = deps.messengers[chat.app];
  if (!m?.chatRoles) return undefined;
  try {
    // A press is answered within the platform's deadline: a platform slow to say decides nothing.
    return await withDeadline(m.chatRoles(chat.chatId), ROLES_DEADLINE_MS);
  } catch (e) {
    const err = asTaskbotError(e);
    deps.logger?.warn({ code: err.code, err: err.toJSON(), chat: chat.chatId }, "could not read the group's owner and managers; the asker and admins decide");
    return undefined;
  }
}

/** The sender of a command asks for `action` in its chat: the answer to give when refused, else undefined. */
export async function refusedFor(input: Pick<HandlerInput, 'cmd' | 'chat' | 'locale' | 'prefs' | 'deps'>, action: Action): Promise<Answer | undefined> {
  const { cmd, chat, locale, prefs, deps } = input;
  const v = await may(deps, {
    action,
    actor: person(cmd.userId),
    chat: { ...chat, ...(cmd.chatType && { chatType: cmd.chatType }) },
    ...(prefs.stopRule && { stopRule: prefs.stopRule }),
  });
  return v.ok ? undefined : { card: noticeCard(locale, refusalText(locale, v.refusal, chat.chatId), { color: 'orange', type: 'error' }), denied: true };
}

import { createHash, randomUUID } from 'node:crypto';
import { renderCardParams } from '../../cards/dingtalk.js';
import { renderMarkdown } from '../../cards/markdown.js';
import type { CardModel } from '../../domain/card.js';
import type { CardHandle, ChatRef, Messenger, ReplyContext, SendLane } from '../../domain/chat.js';
import { asTaskbotError, type TaskbotError } from '../../domain/errors.js';
import { cardTexts } from '../../i18n/card-texts.js';
import { fill } from '../../i18n/messages.js';
import type { DingtalkOpenApi } from './openapi.js';
import { markdownText } from '../../cards/sanitize.js';
import { isPlatformUserId } from '../../domain/user-id.js';

/** 1:1 chats are keyed by the person: `user:<staffId>`; groups by their openConversationId. */
export const USER_CHAT_PREFIX = 'user:';

export interface DingtalkMessengerOptions {
  robotCode: string;
  /** The imported card template; without it, answers are markdown messages. */
  cardTemplateId?: string;
  now?: () => number;
  /** Told when cards cannot be created (wrong template id, missing card permission), for the log. */
  onCardsBroken?: (err: TaskbotError) => void;
}

/** How long answers stay markdown after the template or the card permission failed. */
const CARD_RETRY_AFTER_MS = 10 * 60_000;

/**
 * Cards in DingTalk chats: with a template, interactive cards created with callbackType STREAM and
 * updated in place; without one, markdown replies (session webhook while valid, else the robot
 * send APIs) and one more message when the task ends.
 */
export class DingtalkMessenger implements Messenger {
  /** Robot messages carry no idempotency key: a mention that may have gone out is never repeated. */
  readonly dedupesRepeats = false;
  /** After the template or the card permission failed, markdown until then. */
  private cardsBrokenUntil = 0;
  /** Chats already told what the admin must fix. */
  private readonly toldChats = new Set<string>();

  constructor(private readonly api: DingtalkOpenApi, private readonly o: DingtalkMessengerOptions) {}

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  /** A task card keeps the asking message's session webhook: the one way to @ people in a group later. */
  async send(chat: ChatRef, card: CardModel, reply?: ReplyContext): Promise<CardHandle> {
    const h = await this.sendOrFallBack(chat, card, reply);
    if (card.type !== 'task' || !reply?.sessionWebhook) return h;
    return { ...h, meta: { ...h.meta, sessionWebhook: reply.sessionWebhook, sessionWebhookExpiresAt: reply.sessionWebhookExpiresAt ?? 0 } };
  }

  private async sendOrFallBack(chat: ChatRef, card: CardModel, reply?: ReplyContext): Promise<CardHandle> {
    if (!this.o.cardTemplateId || card.type !== 'task' || this.now() < this.cardsBrokenUntil) return this.sendMarkdown(chat, card, reply);
    try {
      return await this.createCard(chat, card, this.o.cardTemplateId, reply?.idempotencyKey);
    } catch (e) {
      const err = asTaskbotError(e);
      if (err.code !== 'NOT_CONFIGURED' && err.code !== 'PERMISSION_DENIED') throw err;
      // The template or the card permission is wrong: answer in markdown all the same, and tell
      // the admin what to fix (in the log and, once, in the chat); cards are not tried for a while.
      this.cardsBrokenUntil = this.now() + CARD_RETRY_AFTER_MS;
      this.o.onCardsBroken?.(err);
      const tellChat = !this.toldChats.has(chat.chatId);
      this.toldChats.add(chat.chatId);
      const scopes = err.details.scopes?.join(', ') ?? 'Card.Instance.Write';
      const fix = fill(cardTexts(card.locale).cardsBroken, { code: err.code, scopes });
      return this.sendMarkdown(chat, tellChat ? { ...card, note: card.note ? `${card.note}\n${fix}` : fix } : card, reply);
    }
  }

  private async sendMarkdown(chat: ChatRef, card: CardModel, reply?: ReplyContext): Promise<CardHandle> {
    await this.markdown(chat, card, reply);
    return { ...chat, handle: `md-${randomUUID()}`, meta: { markdown: true } };
  }

  /** `key`: a repeat of the same answer (a retried request, a command answered again after a crash) names the same card instance. */
  private async createCard(chat: ChatRef, card: CardModel, cardTemplateId: string, key?: string): Promise<CardHandle> {
    const outTrackId = key ? `tb-${createHash('sha256').update(key).digest('hex').slice(0, 40)}` : `tb-${randomUUID()}`;
    const user = userOf(chat.chatId);
    await this.api.createAndDeliverCard({
      cardTemplateId,
      outTrackId,
      callbackType: 'STREAM',
      cardData: { cardParamMap: renderCardParams(card) },
      ...(user
        ? { openSpaceId: `dtv1.card//IM_ROBOT.${user}`, imRobotOpenSpaceModel: { supportForward: true }, imRobotOpenDeliverModel: { spaceType: 'IM_ROBOT' } }
        : {
            openSpaceId: `dtv1.card//IM_GROUP.${chat.chatId}`,
            imGroupOpenSpaceModel: { supportForward: true },
            imGroupOpenDeliverModel: { robotCode: this.o.robotCode },
          }),
    });
    return { ...chat, handle: outTrackId };
  }

  async update(handle: CardHandle, card: CardModel, lane?: SendLane): Promise<void> {
    if (!handle.meta?.markdown) return this.api.updateCard(handle.handle, renderCardParams(card), lane);
    // A markdown answer cannot change: only the end of the task is worth one more message.
    if (card.final) await this.markdown(handle, card, undefined, lane);
  }

  readyAt(lane: SendLane, hold?: number): number {
    return this.api.cardUpdateReadyAt(lane, hold);
  }

  sendDigest(chat: ChatRef, card: CardModel): Promise<void> {
    return this.markdown(chat, card, undefined, 'interest');
  }

  /**
   * In a group, a real @ needs a session webhook (the robot send APIs cannot mention): the card's,
   * while it is valid. Past that the people are told in their 1:1 chat with the robot instead.
   */
  async mention(card: CardHandle, userIds: string[], text: string): Promise<void> {
    const ids = userIds.filter(isPlatformUserId);
    const title = text.slice(0, 60);
    const user = userOf(card.chatId);
    const hook = typeof card.meta?.sessionWebhook === 'string' ? card.meta.sessionWebhook : undefined;
    const valid = hook !== undefined && Number(card.meta?.sessionWebhookExpiresAt ?? 0) > this.now() + 5_000;
    if (!user && valid) return this.api.sessionMarkdown(hook, { title, text: `${ids.map((id) => `@${id}`).join(' ')} ${markdownText(text)}` }, ids);
    for (let i = 0; i < ids.length; i += 20) await this.api.robotMarkdown(this.o.robotCode, { users: ids.slice(i, i + 20) }, { title, text: markdownText(text) }, 'final');
  }

  private async markdown(chat: ChatRef, card: CardModel, reply?: ReplyContext, lane?: SendLane): Promise<void> {
    const md = renderMarkdown(card);
    if (reply?.sessionWebhook && (reply.sessionWebhookExpiresAt ?? 0) > this.now() + 5_000) {
      return this.api.sessionMarkdown(reply.sessionWebhook, md);
    }
    const user = userOf(chat.chatId);
    return this.api.robotMarkdown(this.o.robotCode, user ? { users: [user] } : { group: chat.chatId }, md, lane);
  }
}

function userOf(chatId: string): string | undefined {
  return chatId.startsWith(USER_CHAT_PREFIX) ? chatId.slice(USER_CHAT_PREFIX.length) : undefined;
}

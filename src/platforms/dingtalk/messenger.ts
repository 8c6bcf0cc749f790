import { randomUUID } from 'node:crypto';
import { renderCardParams } from '../../cards/dingtalk.js';
import { renderMarkdown } from '../../cards/markdown.js';
import type { CardModel } from '../../cards/model.js';
import type { CardHandle, ChatRef, Messenger, ReplyContext } from '../../domain/chat.js';
import type { DingtalkOpenApi } from './openapi.js';

/** 1:1 chats are keyed by the person: `user:<staffId>`; groups by their openConversationId. */
export const USER_CHAT_PREFIX = 'user:';

export interface DingtalkMessengerOptions {
  robotCode: string;
  /** The imported card template; without it, answers are markdown messages. */
  cardTemplateId?: string;
  now?: () => number;
}

/**
 * Cards in DingTalk chats: with a template, interactive cards created with callbackType STREAM and
 * updated in place; without one, markdown replies (session webhook while valid, else the robot
 * send APIs) and one more message when the task ends.
 */
export class DingtalkMessenger implements Messenger {
  constructor(private readonly api: DingtalkOpenApi, private readonly o: DingtalkMessengerOptions) {}

  async send(chat: ChatRef, card: CardModel, reply?: ReplyContext): Promise<CardHandle> {
    if (!this.o.cardTemplateId || card.type !== 'task') {
      await this.markdown(chat, card, reply);
      return { ...chat, handle: `md-${randomUUID()}`, meta: { markdown: true } };
    }
    const outTrackId = `tb-${randomUUID()}`;
    const user = userOf(chat.chatId);
    await this.api.createAndDeliverCard({
      cardTemplateId: this.o.cardTemplateId,
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

  async update(handle: CardHandle, card: CardModel): Promise<void> {
    if (!handle.meta?.markdown) return this.api.updateCard(handle.handle, renderCardParams(card));
    // A markdown answer cannot change: only the end of the task is worth one more message.
    if (card.final) await this.markdown(handle, card);
  }

  sendDigest(chat: ChatRef, card: CardModel): Promise<void> {
    return this.markdown(chat, card);
  }

  private async markdown(chat: ChatRef, card: CardModel, reply?: ReplyContext): Promise<void> {
    const md = renderMarkdown(card);
    const now = this.o.now?.() ?? Date.now();
    if (reply?.sessionWebhook && (reply.sessionWebhookExpiresAt ?? 0) > now + 5_000) {
      return this.api.sessionMarkdown(reply.sessionWebhook, md);
    }
    const user = userOf(chat.chatId);
    return this.api.robotMarkdown(this.o.robotCode, user ? { user } : { group: chat.chatId }, md);
  }
}

function userOf(chatId: string): string | undefined {
  return chatId.startsWith(USER_CHAT_PREFIX) ? chatId.slice(USER_CHAT_PREFIX.length) : undefined;
}

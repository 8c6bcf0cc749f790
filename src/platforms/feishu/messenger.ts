import { createHash } from 'node:crypto';
import { renderFeishuCard } from '../../cards/feishu.js';
import type { CardModel } from '../../domain/card.js';
import type { CardHandle, ChatRef, Messenger, ReplyContext } from '../../domain/chat.js';
import { isTaskbotError } from '../../domain/errors.js';
import type { FeishuOpenApi } from './openapi.js';

/** Answers to a reply whose parent message is gone (recalled, deleted): the chat itself is still there. */
const PARENT_GONE: ReadonlySet<number> = new Set([230011, 230110, 231003]);

/** Sends and updates cards in Feishu chats (the API client paces sends under the platform's limits). */
export class FeishuMessenger implements Messenger {
  constructor(private readonly api: FeishuOpenApi) {}

  /** Replies to the asking message; when that message was recalled or deleted meanwhile, posts to the chat instead. */
  async send(chat: ChatRef, card: CardModel, reply?: ReplyContext): Promise<CardHandle> {
    const json = renderFeishuCard(card);
    const uuid = reply?.idempotencyKey ? idempotencyUuid(reply.idempotencyKey) : undefined;
    if (!reply?.messageId) return { ...chat, handle: await this.api.createCard(chat.chatId, json, uuid) };
    try {
      return { ...chat, handle: await this.api.replyCard(chat.chatId, reply.messageId, json, uuid ?? idempotencyUuid(reply.messageId)) };
    } catch (e) {
      if (!isTaskbotError(e, 'CARD_GONE') || !PARENT_GONE.has(Number(e.details.upstreamCode))) throw e;
      return { ...chat, handle: await this.api.createCard(chat.chatId, json, uuid) };
    }
  }

  update(handle: CardHandle, card: CardModel): Promise<void> {
    return this.api.patchCard(handle.handle, renderFeishuCard(card));
  }

  async sendDigest(chat: ChatRef, card: CardModel): Promise<void> {
    await this.api.createCard(chat.chatId, renderFeishuCard(card));
  }
}

/** Feishu's `uuid` (≤ 50 chars) makes a send idempotent for an hour: derived from the inbound event. */
export function idempotencyUuid(key: string): string {
  return `tb-${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;
}

import { createHash } from 'node:crypto';
import { feishuCardText } from '../../cards/feishu.js';
import { plain } from '../../cards/sanitize.js';
import type { CardModel } from '../../domain/card.js';
import type { CardHandle, ChatRef, Messenger, ReplyContext, SendLane } from '../../domain/chat.js';
import { isTaskbotError } from '../../domain/errors.js';
import { isPlatformUserId } from '../../domain/user-id.js';
import type { ChatRoles } from '../../domain/policy.js';
import { ChatRolesCache, fetchChatRoles } from './chat-roles.js';
import { FEISHU_FILE_MAX_BYTES, cardMessage, type FeishuMessage, type FeishuApi } from './api-client.js';

/** Answers to a reply whose parent message is gone (recalled, deleted): the chat itself is still there. */
const PARENT_GONE: ReadonlySet<number> = new Set([230011, 230110, 231003]);

/** Sends and updates cards in Feishu chats (the API client paces sends under the platform's limits). */
export class FeishuMessenger implements Messenger {
  readonly dedupesRepeats = true;
  readonly maxFileBytes = FEISHU_FILE_MAX_BYTES;

  private readonly roles: ChatRolesCache;

  constructor(private readonly api: FeishuApi) {
    this.roles = new ChatRolesCache((chatId) => fetchChatRoles(api, chatId), api.clock);
  }

  chatRoles(chatId: string): Promise<ChatRoles> {
    return this.roles.get(chatId);
  }

  /** Replies to the asking message; when that message was recalled or deleted meanwhile, posts to the chat instead. */
  async send(chat: ChatRef, card: CardModel, reply?: ReplyContext): Promise<CardHandle> {
    const msg = cardMessage(feishuCardText(card));
    const uuid = reply?.idempotencyKey ? idempotencyUuid(reply.idempotencyKey) : undefined;
    if (!reply?.messageId) return { ...chat, handle: await this.api.post(chat.chatId, msg, uuid) };
    return { ...chat, handle: await this.replyOrPost(chat.chatId, reply.messageId, msg, uuid ?? idempotencyUuid(reply.messageId)) };
  }

  update(handle: CardHandle, card: CardModel, lane?: SendLane): Promise<void> {
    return this.api.patchCard(handle.handle, feishuCardText(card), lane);
  }

  readyAt(lane: SendLane, hold?: number): number {
    return this.api.writeReadyAt(lane, hold);
  }

  async sendDigest(chat: ChatRef, card: CardModel, key?: string): Promise<void> {
    await this.api.post(chat.chatId, cardMessage(feishuCardText(card)), key && idempotencyUuid(key), 'interest');
  }

  /** A text message replying to the card, `<at>` for each person (open_ids from Feishu only), the text made plain. */
  async mention(card: CardHandle, userIds: string[], text: string, key: string): Promise<void> {
    const ats = userIds.filter(isPlatformUserId).map((id) => `<at user_id="${id}"></at>`);
    const msg: FeishuMessage = { msg_type: 'text', content: JSON.stringify({ text: `${ats.join(' ')} ${plain(text)}` }) };
    await this.replyOrPost(card.chatId, card.handle, msg, idempotencyUuid(key), 'final');
  }

  pin(card: CardHandle): Promise<void> {
    return this.api.pin(card.handle);
  }

  unpin(card: CardHandle): Promise<void> {
    return this.api.unpin(card.handle);
  }

  /** Uploads the file, then replies to the card with a file message. */
  async sendFile(card: CardHandle, file: { name: string; bytes: Uint8Array }, key: string): Promise<void> {
    const fileKey = await this.api.uploadFile(file.name, file.bytes);
    await this.replyOrPost(card.chatId, card.handle, { msg_type: 'file', content: JSON.stringify({ file_key: fileKey }) }, idempotencyUuid(key));
  }

  private async replyOrPost(chatId: string, parentId: string, msg: FeishuMessage, uuid: string, lane: SendLane = 'people'): Promise<string> {
    try {
      return await this.api.reply(chatId, parentId, msg, uuid, lane);
    } catch (e) {
      if (!isTaskbotError(e, 'CARD_GONE') || !PARENT_GONE.has(Number(e.details.upstreamCode))) throw e;
      return this.api.post(chatId, msg, uuid, lane);
    }
  }
}

/** Feishu's `uuid` (≤ 50 chars) makes a send idempotent for an hour: derived from the inbound event. */
export function idempotencyUuid(key: string): string {
  return `tb-${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;
}

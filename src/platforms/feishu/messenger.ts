import { createHash } from 'node:crypto';
import { renderFeishuCard } from '../../cards/feishu.js';
import type { CardModel } from '../../cards/model.js';
import type { CardHandle, ChatRef, Messenger, ReplyContext } from '../../domain/chat.js';
import { systemClock, type Clock } from '../../domain/clock.js';
import { KeyedLimiter, RATE_WINDOW_MS, SlidingWindowLimiter } from '../../http/rate-limit.js';
import type { FeishuOpenApi } from './openapi.js';

/** Feishu's documented send limits: 50/s and 1000/min per app, 5/s per chat. */
export const FEISHU_SEND_LIMITS = { perSecond: 50, perMinute: 1000, perChatPerSecond: 5 };

/** Sends and updates cards in Feishu chats, paced under the platform's send limits. */
export class FeishuMessenger implements Messenger {
  private readonly perSecond: SlidingWindowLimiter;
  private readonly perMinute: SlidingWindowLimiter;
  private readonly perChat: KeyedLimiter;

  constructor(private readonly api: FeishuOpenApi, clock: Clock = systemClock) {
    this.perSecond = new SlidingWindowLimiter(FEISHU_SEND_LIMITS.perSecond, RATE_WINDOW_MS, clock);
    this.perMinute = new SlidingWindowLimiter(FEISHU_SEND_LIMITS.perMinute, 60 * RATE_WINDOW_MS, clock);
    this.perChat = new KeyedLimiter(FEISHU_SEND_LIMITS.perChatPerSecond, RATE_WINDOW_MS, clock);
  }

  async send(chat: ChatRef, card: CardModel, reply?: ReplyContext): Promise<CardHandle> {
    await this.pace(chat.chatId);
    const json = renderFeishuCard(card);
    const uuid = reply?.idempotencyKey ? idempotencyUuid(reply.idempotencyKey) : undefined;
    const handle = reply?.messageId
      ? await this.api.replyCard(reply.messageId, json, uuid ?? idempotencyUuid(reply.messageId))
      : await this.api.createCard(chat.chatId, json, uuid);
    return { ...chat, handle };
  }

  update(handle: CardHandle, card: CardModel): Promise<void> {
    return this.api.patchCard(handle.handle, renderFeishuCard(card));
  }

  async sendDigest(chat: ChatRef, card: CardModel): Promise<void> {
    await this.pace(chat.chatId);
    await this.api.createCard(chat.chatId, renderFeishuCard(card));
  }

  private async pace(chatId: string): Promise<void> {
    await this.perChat.acquire(chatId);
    await this.perMinute.acquire();
    await this.perSecond.acquire();
  }
}

/** Feishu's `uuid` (≤ 50 chars) makes a send idempotent for an hour: derived from the inbound event. */
export function idempotencyUuid(key: string): string {
  return `tb-${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;
}

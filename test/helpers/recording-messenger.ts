import type { CardModel } from '../../src/domain/card.js';
import type { CardHandle, ChatRef, Messenger, ReplyContext } from '../../src/domain/chat.js';
import { TaskbotError, type ErrorCode } from '../../src/domain/errors.js';
import type { Platform } from '../../src/domain/task.js';

/** A Messenger that keeps what it was asked to send, for platform-neutral tests. */
export class RecordingMessenger implements Messenger {
  /** Feishu-like by default: a repeated mention with the same key is posted once. */
  dedupesRepeats = true;
  readonly sent: { chat: ChatRef; card: CardModel; reply?: ReplyContext; handle: string }[] = [];
  readonly updates: { handle: string; card: CardModel; at: number }[] = [];
  readonly digests: { chat: ChatRef; card: CardModel }[] = [];
  readonly mentions: { card: string; chatId: string; userIds: string[]; text: string; key: string }[] = [];
  /** Mentions that fail (transiently) before one goes through. */
  failNextMentions = 0;
  /** Every mention fails with this code while it is set. */
  failNextMentionsWith?: ErrorCode;
  /** Handles whose updates fail as if the message was recalled. */
  readonly gone = new Set<string>();
  /** Handles whose updates always fail with this code. */
  readonly failWith = new Map<string, ErrorCode>();
  /** Handles whose cards are refused while they carry an item list (too long for the platform). */
  readonly refuseLists = new Set<string>();
  /** Every update tried, failed ones included. */
  attempts = 0;
  failNextUpdates = 0;
  /** Awaited before an update lands (to hold a send in flight). */
  gate: (handle: string) => Promise<void> = async () => undefined;
  /** Digest sends that fail (transiently) before one goes through. */
  failNextDigests = 0;
  private n = 0;

  constructor(
    readonly platform: Platform = 'feishu',
    private readonly now: () => number = Date.now,
  ) {}

  async send(chat: ChatRef, card: CardModel, reply?: ReplyContext): Promise<CardHandle> {
    const handle = `${this.platform === 'feishu' ? 'om' : 'track'}_${++this.n}`;
    this.sent.push({ chat, card, reply, handle });
    return { ...chat, handle };
  }

  async update(h: CardHandle, card: CardModel): Promise<void> {
    this.attempts++;
    await this.gate(h.handle);
    if (this.gone.has(h.handle)) throw new TaskbotError('CARD_GONE', 'recalled');
    const code = this.failWith.get(h.handle);
    if (code) throw new TaskbotError(code, 'refused');
    if (this.refuseLists.has(h.handle) && card.blocks.some((b) => b.type === 'list')) throw new TaskbotError('CARD_REJECTED', 'content too long');
    if (this.failNextUpdates > 0) {
      this.failNextUpdates--;
      throw new TaskbotError('UPSTREAM_UNAVAILABLE', 'send failed');
    }
    this.updates.push({ handle: h.handle, card, at: this.now() });
  }

  async sendDigest(chat: ChatRef, card: CardModel): Promise<void> {
    if (this.failNextDigests > 0) {
      this.failNextDigests--;
      throw new TaskbotError('UPSTREAM_UNAVAILABLE', 'send failed');
    }
    this.digests.push({ chat, card });
  }

  async mention(card: CardHandle, userIds: string[], text: string, key: string): Promise<void> {
    await this.gate(card.handle);
    if (this.failNextMentionsWith) throw new TaskbotError(this.failNextMentionsWith, 'refused');
    if (this.failNextMentions > 0) {
      this.failNextMentions--;
      throw new TaskbotError('UPSTREAM_UNAVAILABLE', 'send failed');
    }
    this.mentions.push({ card: card.handle, chatId: card.chatId, userIds, text, key });
  }

  updatesOf(handle: string): CardModel[] {
    return this.updates.filter((u) => u.handle === handle).map((u) => u.card);
  }
}

import type { CardModel } from '../../src/cards/model.js';
import type { CardHandle, ChatRef, Messenger, ReplyContext } from '../../src/domain/chat.js';
import { TaskbotError } from '../../src/domain/errors.js';
import type { Platform } from '../../src/domain/task.js';

/** A Messenger that keeps what it was asked to send, for platform-neutral tests. */
export class RecordingMessenger implements Messenger {
  readonly sent: { chat: ChatRef; card: CardModel; reply?: ReplyContext; handle: string }[] = [];
  readonly updates: { handle: string; card: CardModel; at: number }[] = [];
  readonly digests: { chat: ChatRef; card: CardModel }[] = [];
  /** Handles whose updates fail as if the message was recalled. */
  readonly gone = new Set<string>();
  failNextUpdates = 0;
  private n = 0;

  constructor(readonly platform: Platform = 'feishu', private readonly now: () => number = Date.now) {}

  async send(chat: ChatRef, card: CardModel, reply?: ReplyContext): Promise<CardHandle> {
    const handle = `${this.platform === 'feishu' ? 'om' : 'track'}_${++this.n}`;
    this.sent.push({ chat, card, reply, handle });
    return { ...chat, handle };
  }

  async update(h: CardHandle, card: CardModel): Promise<void> {
    if (this.gone.has(h.handle)) throw new TaskbotError('CARD_GONE', 'recalled');
    if (this.failNextUpdates > 0) {
      this.failNextUpdates--;
      throw new TaskbotError('UPSTREAM_UNAVAILABLE', 'send failed');
    }
    this.updates.push({ handle: h.handle, card, at: this.now() });
  }

  async sendDigest(chat: ChatRef, card: CardModel): Promise<void> {
    this.digests.push({ chat, card });
  }

  updatesOf(handle: string): CardModel[] {
    return this.updates.filter((u) => u.handle === handle).map((u) => u.card);
  }
}

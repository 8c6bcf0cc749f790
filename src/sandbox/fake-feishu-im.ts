import type { FakeRequest, FakeResponse } from './fake-server.js';

export interface FakeMessage {
  message_id: string;
  chat_id: string;
  reply_to?: string;
  /** The card as sent, then as last patched (empty for a text message). */
  card: Record<string, unknown>;
  /** A text message's text, `<at user_id="…"></at>` mentions included. */
  text?: string;
  history: { at: number; card: Record<string, unknown> }[];
  created_at: number;
  recalled?: boolean;
}

/** Feishu refuses cards over 30 KB. */
const MAX_CARD_BYTES = 30 * 1024;
const FOURTEEN_DAYS_MS = 14 * 86_400_000;

/**
 * The message side of the fake Feishu: reply, create and patch with cards, uuid idempotency,
 * recalled and too-old messages, and (when asked) the documented rate limits.
 */
export class FakeFeishuIm {
  readonly messages = new Map<string, FakeMessage>();
  private readonly byUuid = new Map<string, string>();
  private n = 0;
  /** Enforce send 50/s and 1000/min per app and 5/s per chat, patch 5/s per message (answering 99991400 / 230020). */
  enforceLimits = false;
  limitViolations = 0;
  /** Which limit each violation broke. */
  readonly violations: Record<'perSecond' | 'perMinute' | 'perChat' | 'perMessage', number> = { perSecond: 0, perMinute: 0, perChat: 0, perMessage: 0 };
  private readonly sends: { at: number; chat: string }[] = [];
  private readonly patches = new Map<string, number[]>();
  /** Listeners (the sandbox console) hear every new or changed message. */
  readonly listeners = new Set<(m: FakeMessage, kind: 'created' | 'patched') => void>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Messages people sent (through the fake gateway), so replies know their chat. */
  readonly inbound = new Map<string, string>();
  /** Messages people sent and then recalled: replies to them are refused. */
  readonly recalledInbound = new Set<string>();

  reply(r: FakeRequest, parentId: string): FakeResponse {
    if (this.recalledInbound.has(parentId)) return { status: 400, body: { code: 230011, msg: 'The message is recalled.' } };
    const chat = this.messages.get(parentId)?.chat_id ?? this.inbound.get(parentId);
    if (!chat) return { status: 400, body: { code: 230001, msg: 'parent message not found' } };
    return this.create(r, chat, parentId);
  }

  create(r: FakeRequest, chatId: string | null, replyTo?: string): FakeResponse {
    const b = (r.body ?? {}) as { msg_type?: string; content?: string; uuid?: string; receive_id?: string };
    const chat = chatId ?? b.receive_id;
    if (!chat) return { status: 400, body: { code: 99992402, msg: 'field validation failed: receive_id' } };
    if (b.uuid && this.byUuid.has(b.uuid)) return ok({ message_id: this.byUuid.get(b.uuid), chat_id: chat });
    const card = b.msg_type === 'text' ? textOf(b.content) : this.card(b);
    if ('status' in card) return card;
    if (this.enforceLimits && !this.allowSend(chat)) return limited();
    const id = `om_fake${String(++this.n).padStart(6, '0')}`;
    const m: FakeMessage = {
      message_id: id,
      chat_id: chat,
      ...(replyTo && { reply_to: replyTo }),
      card: card.card,
      ...('text' in card && { text: String(card.text) }),
      history: [{ at: this.now(), card: card.card }],
      created_at: this.now(),
    };
    this.messages.set(id, m);
    if (b.uuid) this.byUuid.set(b.uuid, id);
    for (const l of this.listeners) l(m, 'created');
    return ok({ message_id: id, chat_id: chat, msg_type: b.msg_type });
  }

  patch(r: FakeRequest, id: string): FakeResponse {
    const m = this.messages.get(id);
    if (!m) return { status: 400, body: { code: 230001, msg: 'message not found' } };
    if (m.recalled) return { status: 400, body: { code: 230011, msg: 'The message is recalled.' } };
    if (this.now() - m.created_at > FOURTEEN_DAYS_MS) return { status: 400, body: { code: 230031, msg: 'The message is too old to update.' } };
    const card = this.card({ msg_type: 'interactive', ...(r.body as object) });
    if ('status' in card) return card;
    if (this.enforceLimits && !this.allowPatch(id)) return { status: 400, body: { code: 230020, msg: 'This operation triggers the frequency limit.' } };
    m.card = card.card;
    m.history.push({ at: this.now(), card: card.card });
    for (const l of this.listeners) l(m, 'patched');
    return ok({});
  }

  /** What the Feishu client does with a card returned by a callback: shows it in place. */
  applyInline(id: string, card: Record<string, unknown>): void {
    const m = this.messages.get(id);
    if (!m) return;
    m.card = card;
    m.history.push({ at: this.now(), card });
    for (const l of this.listeners) l(m, 'patched');
  }

  /** Messages of one chat in order. */
  inChat(chatId: string): FakeMessage[] {
    return [...this.messages.values()].filter((m) => m.chat_id === chatId);
  }

  private card(b: { msg_type?: string; content?: string }): { card: Record<string, unknown> } | FakeResponse {
    if (b.msg_type !== 'interactive' || typeof b.content !== 'string') return { status: 400, body: { code: 230001, msg: 'invalid msg_type or content' } };
    if (Buffer.byteLength(b.content) > MAX_CARD_BYTES) return { status: 400, body: { code: 230025, msg: 'message content too long' } };
    try {
      const card = JSON.parse(b.content) as Record<string, unknown>;
      if (card.schema !== '2.0') return { status: 400, body: { code: 230099, msg: 'card content invalid: schema must be 2.0' } };
      return { card };
    } catch {
      return { status: 400, body: { code: 230099, msg: 'card content is not JSON' } };
    }
  }

  private allowSend(chat: string): boolean {
    const now = this.now();
    while (this.sends.length && now - this.sends[0]!.at >= 60_000) this.sends.shift();
    const lastSecond = this.sends.filter((s) => now - s.at < 1000);
    const broke = this.sends.length >= 1000 ? 'perMinute' : lastSecond.length >= 50 ? 'perSecond' : lastSecond.filter((s) => s.chat === chat).length >= 5 ? 'perChat' : undefined;
    if (broke) {
      this.limitViolations++;
      this.violations[broke]++;
      return false;
    }
    this.sends.push({ at: now, chat });
    return true;
  }

  private allowPatch(id: string): boolean {
    const now = this.now();
    const recent = (this.patches.get(id) ?? []).filter((t) => now - t < 1000);
    if (recent.length >= 5) {
      this.limitViolations++;
      this.violations.perMessage++;
      return false;
    }
    recent.push(now);
    this.patches.set(id, recent);
    return true;
  }
}

/** A text message: content is `{"text": …}`. */
function textOf(content: string | undefined): { card: Record<string, unknown>; text: string } | FakeResponse {
  try {
    const c = JSON.parse(content ?? '') as { text?: unknown };
    if (typeof c.text === 'string' && c.text.trim()) return { card: {}, text: c.text };
  } catch {
    // answered below
  }
  return { status: 400, body: { code: 230001, msg: 'invalid text content' } };
}

const ok = (data: unknown): FakeResponse => ({ status: 200, body: { code: 0, msg: 'success', data } });
const limited = (): FakeResponse => ({ status: 429, body: { code: 99991400, msg: 'request trigger frequency limit' }, headers: { 'x-ogw-ratelimit-reset': '1' } });

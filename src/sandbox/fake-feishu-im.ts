import type { FakeRequest, FakeResponse } from './fake-server.js';

export interface FakeMessage {
  message_id: string;
  chat_id: string;
  reply_to?: string;
  /** The card as sent, then as last patched (empty for a text message). */
  card: Record<string, unknown>;
  /** A text message's text, `<at user_id="…"></at>` mentions included. */
  text?: string;
  /** A file message's file, as uploaded. */
  file?: FakeFile;
  history: { at: number; card: Record<string, unknown> }[];
  created_at: number;
  recalled?: boolean;
}

export interface FakeFile {
  key: string;
  name: string;
  type: string;
  bytes: Buffer;
}

/** im v1 files: the types Feishu takes, and its size limit (30 MB, not empty). */
const FILE_TYPES = new Set(['opus', 'mp4', 'pdf', 'doc', 'xls', 'ppt', 'stream']);
const MAX_FILE_BYTES = 30 * 1024 * 1024;

/** Feishu refuses cards over 30 KB. */
const MAX_CARD_BYTES = 30 * 1024;
const FOURTEEN_DAYS_MS = 14 * 86_400_000;

/**
 * The message side of the fake Feishu: reply, create and patch with cards, uuid idempotency,
 * recalled and too-old messages, and (when asked) the documented rate limits.
 */
export class FakeFeishuIm {
  readonly messages = new Map<string, FakeMessage>();
  /** Pinned messages, and every pin and unpin in order (for tests). */
  readonly pinned = new Set<string>();
  readonly pinLog: { at: number; message: string; op: 'pin' | 'unpin' }[] = [];
  /** Uploaded files by file_key. */
  readonly files = new Map<string, FakeFile>();
  private readonly byUuid = new Map<string, string>();
  private n = 0;
  /** How this tenant's message ids begin (two fakes in one console must not hand out the same ids). */
  idPrefix = 'om_fake';
  /** Enforce sends and patches 50/s and 1000/min per app, sends 5/s per chat, patches 5/s per message (answering 99991400 / 230020). */
  enforceLimits = false;
  limitViolations = 0;
  /** Which limit each violation broke. */
  readonly violations: Record<'perSecond' | 'perMinute' | 'perChat' | 'perMessage', number> = { perSecond: 0, perMinute: 0, perChat: 0, perMessage: 0 };
  private readonly writes: { at: number; chat?: string }[] = [];
  private readonly patches = new Map<string, number[]>();
  /** Listeners (the sandbox console) hear every new or changed message. */
  readonly listeners = new Set<(m: FakeMessage, kind: 'created' | 'patched') => void>();

  /** How many versions of each card `history` keeps (a benchmark of 10,000 cards keeps the last only). */
  historyLimit = Infinity;

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
    // A post to a person's open_id lands in their 1:1 chat with the bot.
    const chat = chatId ?? (r.query.get('receive_id_type') === 'open_id' && b.receive_id ? p2pChatOf(b.receive_id) : b.receive_id);
    if (!chat) return { status: 400, body: { code: 99992402, msg: 'field validation failed: receive_id' } };
    if (b.uuid && this.byUuid.has(b.uuid)) return ok({ message_id: this.byUuid.get(b.uuid), chat_id: chat });
    const card: { card: Record<string, unknown>; text?: string; file?: FakeFile } | FakeResponse =
      b.msg_type === 'text' ? textOf(b.content) : b.msg_type === 'file' ? this.fileOf(b.content) : this.card(b);
    if ('status' in card) return card;
    const refused = this.enforceLimits ? this.limit(chat) : undefined;
    if (refused) return refused;
    const id = this.add(chat, card.card, replyTo, card.text, card.file);
    if (b.uuid) this.byUuid.set(b.uuid, id);
    return ok({ message_id: id, chat_id: chat, msg_type: b.msg_type });
  }

  /** A card already in a chat, sent before the fake started counting (benchmarks start from thousands). */
  seed(chatId: string, card: Record<string, unknown>): string {
    return this.add(chatId, card);
  }

  /**
   * im v1 files: multipart with file_type, file_name and file; answers a file_key for a file
   * message. Refuses what Feishu documents refusing: an unknown type, an empty or too large file.
   */
  async upload(r: FakeRequest): Promise<FakeResponse> {
    const form = r.body instanceof FormData ? r.body : undefined;
    const file = form?.get('file');
    const type = form?.get('file_type');
    const name = form?.get('file_name');
    if (!form || !(file instanceof Blob) || typeof type !== 'string' || !FILE_TYPES.has(type) || typeof name !== 'string' || !name) {
      return { status: 400, body: { code: 234001, msg: 'Invalid request param.' } };
    }
    if (file.size === 0) return { status: 400, body: { code: 234010, msg: 'File should not be empty.' } };
    if (file.size > MAX_FILE_BYTES) return { status: 400, body: { code: 234006, msg: 'The file size exceed the max value.' } };
    const key = `file_v3_fake${String(this.files.size + 1).padStart(6, '0')}`;
    this.files.set(key, { key, name, type, bytes: Buffer.from(await file.arrayBuffer()) });
    return ok({ file_key: key });
  }

  /** im v1 pins: a message of a chat the bot is in; pinning twice is harmless, as unpinning one that is not. */
  pin(id: string): FakeResponse {
    const m = this.messages.get(id);
    if (!m || m.recalled) return { status: 400, body: { code: 230001, msg: 'message not found' } };
    this.pinned.add(id);
    this.pinLog.push({ at: this.now(), message: id, op: 'pin' });
    for (const l of this.listeners) l(m, 'patched');
    return ok({ pin: { message_id: id, chat_id: m.chat_id, operator_id: 'cli_fake', operator_id_type: 'app_id', create_time: String(this.now()) } });
  }

  unpin(id: string): FakeResponse {
    const m = this.messages.get(id);
    if (!m) return { status: 400, body: { code: 230001, msg: 'message not found' } };
    this.pinned.delete(id);
    this.pinLog.push({ at: this.now(), message: id, op: 'unpin' });
    for (const l of this.listeners) l(m, 'patched');
    return ok({});
  }

  /** A file message: content is `{"file_key": …}` of an uploaded file. */
  private fileOf(content: string | undefined): { card: Record<string, unknown>; file: FakeFile } | FakeResponse {
    try {
      const c = JSON.parse(content ?? '') as { file_key?: unknown };
      const file = typeof c.file_key === 'string' ? this.files.get(c.file_key) : undefined;
      if (file) return { card: {}, file };
    } catch {
      // answered below
    }
    return { status: 400, body: { code: 230001, msg: 'invalid file_key' } };
  }

  private add(chat: string, card: Record<string, unknown>, replyTo?: string, text?: string, file?: FakeFile): string {
    const id = `${this.idPrefix}${String(++this.n).padStart(6, '0')}`;
    const m: FakeMessage = {
      message_id: id,
      chat_id: chat,
      ...(replyTo && { reply_to: replyTo }),
      card,
      ...(text !== undefined && { text }),
      ...(file && { file }),
      history: [{ at: this.now(), card }],
      created_at: this.now(),
    };
    this.messages.set(id, m);
    for (const l of this.listeners) l(m, 'created');
    return id;
  }

  patch(r: FakeRequest, id: string): FakeResponse {
    const m = this.messages.get(id);
    if (!m) return { status: 400, body: { code: 230001, msg: 'message not found' } };
    if (m.recalled) return { status: 400, body: { code: 230011, msg: 'The message is recalled.' } };
    if (this.now() - m.created_at > FOURTEEN_DAYS_MS) return { status: 400, body: { code: 230031, msg: 'The message is too old to update.' } };
    const card = this.card({ msg_type: 'interactive', ...(r.body as object) });
    if ('status' in card) return card;
    const refused = this.enforceLimits ? this.limit(undefined, id) : undefined;
    if (refused) return refused;
    this.record(m, card.card);
    for (const l of this.listeners) l(m, 'patched');
    return ok({});
  }

  /** What the Feishu client does with a card returned by a callback: shows it in place. */
  applyInline(id: string, card: Record<string, unknown>): void {
    const m = this.messages.get(id);
    if (!m) return;
    this.record(m, card);
    for (const l of this.listeners) l(m, 'patched');
  }

  private record(m: FakeMessage, card: Record<string, unknown>): void {
    m.card = card;
    m.history.push({ at: this.now(), card });
    if (m.history.length > this.historyLimit) m.history.splice(0, m.history.length - this.historyLimit);
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

  /** How many writes the app's minute still counts (benchmarks: what a burst starting now cannot use). */
  minuteWrites(): number {
    const now = this.now();
    return this.writes.filter((w) => now - w.at < 60_000).length;
  }

  /**
   * Sends and patches count together against the app's 50/s and 1000/min (the stricter reading of
   * the two documents); sends also 5/s per chat, patches 5/s per message. Undefined: allowed.
   */
  private limit(chat: string | undefined, message?: string): FakeResponse | undefined {
    const now = this.now();
    while (this.writes.length && now - this.writes[0]!.at >= 60_000) this.writes.shift();
    let lastSecond = 0;
    let chatSecond = 0;
    for (let i = this.writes.length - 1; i >= 0 && now - this.writes[i]!.at < 1000; i--) {
      lastSecond++;
      if (chat !== undefined && this.writes[i]!.chat === chat) chatSecond++;
    }
    const recent = message === undefined ? [] : (this.patches.get(message) ?? []).filter((t) => now - t < 1000);
    const broke =
      this.writes.length >= 1000 ? 'perMinute' : lastSecond >= 50 ? 'perSecond' : chatSecond >= 5 ? 'perChat' : recent.length >= 5 ? 'perMessage' : undefined;
    if (broke) {
      this.limitViolations++;
      this.violations[broke]++;
      return broke === 'perMessage' ? { status: 400, body: { code: 230020, msg: 'This operation triggers the frequency limit.' } } : limited();
    }
    this.writes.push({ at: now, ...(chat !== undefined && { chat }) });
    if (message !== undefined) this.patches.set(message, [...recent, now]);
    return undefined;
  }
}

/** The 1:1 chat of a person with the bot, in the fake. */
export const p2pChatOf = (openId: string) => `oc_p2p_${openId}`;

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
const limited = (): FakeResponse => ({
  status: 429,
  body: { code: 99991400, msg: 'request trigger frequency limit' },
  headers: { 'x-ogw-ratelimit-reset': '1' },
});

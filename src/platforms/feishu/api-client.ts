import { lark, type LarkSdk } from './sdk.js';
import type { Logger } from 'pino';
import { TaskbotError } from '../../domain/errors.js';
import { systemClock, type Clock } from '../../domain/clock.js';
import { httpRequest, parseJson } from '../../http/request.js';
import { callWithToken } from '../../http/authorized-call.js';
import { RATE_WINDOW_MS, SlidingWindowLimiter } from '../../http/rate-limit.js';
import { SendPacer, type PacerLimits } from '../../http/send-pacer.js';
import type { SendLane } from '../../domain/chat.js';
import type { RetryOptions } from '../../http/retry.js';
import { TokenCache, type TokenSource } from '../../http/token-cache.js';
import { classifyFeishu, type FeishuCallContext } from './errors.js';
import { FeishuHttpAnswer, undiciHttpInstance } from './http-instance.js';
import { sdkLogger } from './sdk-logger.js';
import type { FeishuTaskApi, ReportQueryBody } from '../../providers/ports.js';
import type { LimitShare } from '../../domain/limit-share.js';

export interface FeishuApiOptions {
  appId: string;
  appSecret: string;
  /** What the operator calls these credentials, for the one line that says they were refused. */
  credentials?: string;
  domain: string;
  timeoutMs: number;
  retry?: RetryOptions;
  clock?: Clock;
  logger?: Logger;
  /** Told each time one of our limiters holds a call back (metrics). */
  onRateWait?: (limiter: string) => void;
  /** This replica's share of the app's limits; alone when not given. */
  share?: LimitShare;
  /** Where the tenant token comes from; by default the app's own credentials (tenant_access_token/internal). */
  tokenSource?: TokenSource;
}

export type CallOptions = ReturnType<typeof lark.withTenantToken>;

/**
 * Feishu's documented limits on writes: sends and card patches 50/s and 1000/min per app (counted
 * together, the stricter reading), sends 5/s per chat, patches 5/s per message. People's answers
 * keep 5/s and 10/min of it (they also go first for every slot that frees); progress may take half
 * of the rest.
 */
export const FEISHU_SEND_LIMITS: PacerLimits = {
  perSecond: 50,
  perMinute: 1000,
  perKeyPerSecond: 5,
  reserve: { perSecond: 5, perMinute: 10 },
  progressShare: 0.5,
};

/** Feishu documents 10 requests/s for report tasks/query. */
export const REPORT_QUERY_PER_SECOND = 10;

/**
 * The SDK Client behind our own rules: a single-flight tenant token (the SDK's cache has none
 * and never evicts), a deadline on every call, `code != 0` as a typed error, retries with
 * backoff honouring `x-ogw-ratelimit-reset`, and one fresh-token retry on an invalid token.
 */
export class FeishuApi implements FeishuTaskApi {
  readonly client: LarkSdk.Client;
  private readonly tokens: TokenCache;
  private readonly reportLimiter: SlidingWindowLimiter;
  private readonly sendPacer: SendPacer;
  private readonly retry: RetryOptions;
  readonly clock: Clock;

  constructor(private readonly opts: FeishuApiOptions) {
    const clock = opts.clock ?? systemClock;
    this.clock = clock;
    this.retry = { clock, ...opts.retry };
    this.client = new lark.Client({
      appId: opts.appId,
      appSecret: opts.appSecret,
      domain: opts.domain,
      disableTokenCache: true,
      httpInstance: undiciHttpInstance(opts.timeoutMs),
      logger: sdkLogger(opts.logger),
      loggerLevel: lark.LoggerLevel.warn,
    });
    // Feishu's token lives 2 h; refresh 3 min early as the SDK does.
    this.tokens = new TokenCache(opts.tokenSource ?? (() => this.fetchTenantToken()), 3 * 60_000, clock);
    this.reportLimiter = new SlidingWindowLimiter(REPORT_QUERY_PER_SECOND, RATE_WINDOW_MS, clock, () => opts.onRateWait?.('feishu report'), opts.share);
    this.sendPacer = new SendPacer(FEISHU_SEND_LIMITS, clock, RATE_WINDOW_MS, () => opts.onRateWait?.('feishu send'), opts.share);
  }

  /** Runs one SDK call with a tenant token and returns the whole answer (`code` already checked). */
  call(ctx: FeishuCallContext, fn: (client: LarkSdk.Client, opts: CallOptions) => Promise<unknown>): Promise<Record<string, unknown>> {
    return callWithToken(
      this.tokens,
      async (token) => {
        let body: unknown;
        try {
          body = await fn(this.client, lark.withTenantToken(token));
        } catch (e) {
          throw toTaskbotError(e, ctx);
        }
        const err = classifyFeishu({ status: 200, headers: {}, body }, ctx);
        if (err) throw err;
        return body as Record<string, unknown>;
      },
      this.retry,
      `feishu ${ctx.endpoint}`,
    );
  }

  async contactTask(taskId: string): Promise<unknown> {
    return (
      await this.call({ endpoint: 'contact v2 task/get', scopes: ['contact:contact', 'contact:contact:readonly_as_app'], taskId }, (c, o) =>
        c.request({ method: 'GET', url: '/open-apis/contact/v2/task/get', params: { task_id: taskId } }, o),
      )
    ).data;
  }

  async driveTaskCheck(taskId: string): Promise<unknown> {
    return (
      await this.call({ endpoint: 'drive v1 task_check', scopes: ['drive:drive', 'drive:drive:readonly', 'drive:drive.metadata:readonly'], taskId }, (c, o) =>
        c.drive.v1.file.taskCheck({ params: { task_id: taskId } }, o),
      )
    ).data;
  }

  async reportQuery(data: ReportQueryBody): Promise<unknown> {
    const body = await this.call({ endpoint: 'report v1 tasks/query', scopes: ['report:task:readonly'] }, async (c, o) => {
      await this.reportLimiter.acquire();
      return c.report.v1.task.query({ data }, o);
    });
    return body.data;
  }

  /** The bot's own identity (open_id), to know when a group message mentions it. No typed helper exists. */
  async botInfo(): Promise<{ openId: string; name: string }> {
    const body = await this.call({ endpoint: 'bot v3 info', scopes: [] }, (c, o) => c.request({ method: 'GET', url: '/open-apis/bot/v3/info' }, o));
    const bot = body.bot as { open_id?: unknown; app_name?: unknown } | undefined;
    if (typeof bot?.open_id !== 'string')
      throw new TaskbotError('BAD_UPSTREAM_RESPONSE', 'bot v3 info: answer has no bot.open_id', { endpoint: 'bot v3 info' });
    return { openId: bot.open_id, name: typeof bot.app_name === 'string' ? bot.app_name : '' };
  }

  /**
   * Replies to a message in `chatId` (a card, or text); `uuid` makes a redelivered event's reply a
   * no-op for an hour. Paced right before each attempt goes out, so the platform sees what we counted; `lane` says what
   * it is worth when the app's budget is short.
   */
  async reply(chatId: string, messageId: string, msg: FeishuMessage, uuid: string, lane: SendLane = 'people'): Promise<string> {
    const body = await this.call({ endpoint: 'im v1 message reply', scopes: SEND_SCOPES }, async (c, o) => {
      const answered = await this.sendPacer.acquire(`chat:${chatId}`, lane);
      return c.im.message.reply({ path: { message_id: messageId }, data: { ...msg, uuid } }, o).finally(answered);
    });
    return messageIdOf(body, 'im v1 message reply');
  }

  /** Posts a message to a chat (paced like replies). */
  async post(chatId: string, msg: FeishuMessage, uuid?: string, lane: SendLane = 'people'): Promise<string> {
    const body = await this.call({ endpoint: 'im v1 message create', scopes: SEND_SCOPES }, async (c, o) => {
      const answered = await this.sendPacer.acquire(`chat:${chatId}`, lane);
      return c.im.message
        .create({ params: { receive_id_type: receiveIdType(chatId) }, data: { receive_id: chatId, ...msg, ...(uuid && { uuid }) } }, o)
        .finally(answered);
    });
    return messageIdOf(body, 'im v1 message create');
  }

  /**
   * Uploads a file for a file message (im v1 files, multipart); resolves with its file_key. Feishu
   * takes 1 byte to 30 MB; larger is refused here before any call.
   */
  async uploadFile(name: string, bytes: Uint8Array): Promise<string> {
    const endpoint = 'im v1 file create';
    if (bytes.byteLength === 0 || bytes.byteLength > FEISHU_FILE_MAX_BYTES)
      throw new TaskbotError('INVALID_ARGUMENT', `${endpoint}: a file must hold 1 byte to 30 MB (this one: ${bytes.byteLength})`, { endpoint });
    // Not c.im.file.create: it hands back only `data`, dropping the code an error answer carries.
    const body = await this.call({ endpoint, scopes: FILE_SCOPES }, (c, o) =>
      c.request(
        {
          method: 'POST',
          url: '/open-apis/im/v1/files',
          headers: { 'Content-Type': 'multipart/form-data' },
          data: { file_type: 'stream', file_name: name, file: Buffer.from(bytes) },
        },
        o,
      ),
    );
    const key = (body.data as { file_key?: unknown } | undefined)?.file_key;
    if (typeof key !== 'string') throw new TaskbotError('BAD_UPSTREAM_RESPONSE', `${endpoint}: answer has no file_key`, { endpoint });
    return key;
  }

  /** Pins a message in its chat (im v1 pins); unpin takes it off. */
  async pin(messageId: string): Promise<void> {
    await this.call({ endpoint: 'im v1 pin create', scopes: PIN_SCOPES }, (c, o) => c.im.pin.create({ data: { message_id: messageId } }, o));
  }

  async unpin(messageId: string): Promise<void> {
    await this.call({ endpoint: 'im v1 pin delete', scopes: PIN_SCOPES }, (c, o) => c.im.pin.delete({ path: { message_id: messageId } }, o));
  }

  /** When the app's write budget lets a write of `lane` start. */
  writeReadyAt(lane: SendLane, hold?: number): number {
    return this.sendPacer.readyAt(lane, hold);
  }

  /** Updates a card in place (not updateByCard: that answers 230001 for cards), paced with the sends. */
  async patchCard(messageId: string, content: string, lane: SendLane = 'progress'): Promise<void> {
    await this.call({ endpoint: 'im v1 message patch', scopes: SEND_SCOPES }, async (c, o) => {
      const answered = await this.sendPacer.acquire(`message:${messageId}`, lane);
      return c.im.message.patch({ path: { message_id: messageId }, data: { content } }, o).finally(answered);
    });
  }

  private async fetchTenantToken(): Promise<{ token: string; expiresInSec: number }> {
    const endpoint = 'feishu tenant_access_token';
    const res = await httpRequest({
      url: `${this.opts.domain}/open-apis/auth/v3/tenant_access_token/internal`,
      method: 'POST',
      json: { app_id: this.opts.appId, app_secret: this.opts.appSecret },
      timeoutMs: this.opts.timeoutMs,
      endpoint,
    });
    const body = res.status >= 500 ? undefined : parseJson(res, endpoint);
    const err = classifyFeishu({ status: res.status, headers: res.headers, body }, { endpoint, scopes: [] });
    const b = body as { tenant_access_token?: unknown; expire?: unknown } | undefined;
    if (err) {
      if (err.retryable) throw err;
      throw new TaskbotError(
        'AUTH_FAILED',
        `Feishu refused ${this.opts.credentials ?? 'FEISHU_APP_ID / FEISHU_APP_SECRET'}: ${err.details.upstreamMessage || err.message}`,
        err.details,
      );
    }
    if (typeof b?.tenant_access_token !== 'string' || typeof b.expire !== 'number') {
      throw new TaskbotError('BAD_UPSTREAM_RESPONSE', `${endpoint}: answer has no tenant_access_token`, { endpoint });
    }
    return { token: b.tenant_access_token, expiresInSec: b.expire };
  }
}

const SEND_SCOPES = ['im:message', 'im:message:send_as_bot'];

/** Where a post goes: a chat (`oc_…`), or a person's 1:1 chat with the bot by their open_id (`ou_…`: a menu click names no chat). */
const receiveIdType = (id: string) => (id.startsWith('ou_') ? 'open_id' : 'chat_id');
/** Pinning messages (either scope). */
const PIN_SCOPES = ['im:message.pins:write_only', 'im:message'];
/** Uploading a file to send (either scope). */
const FILE_SCOPES = ['im:resource', 'im:resource:upload'];
/** Feishu's limit for one uploaded file. */
export const FEISHU_FILE_MAX_BYTES = 30 * 1024 * 1024;

/** A message body as im v1 takes it: `content` is the JSON text of the card (feishuCardText) or of `{text}`. */
export interface FeishuMessage {
  msg_type: 'interactive' | 'text' | 'file';
  content: string;
}

export const cardMessage = (content: string): FeishuMessage => ({ msg_type: 'interactive', content });

function messageIdOf(body: Record<string, unknown>, endpoint: string): string {
  const id = (body.data as { message_id?: unknown } | undefined)?.message_id;
  if (typeof id !== 'string') throw new TaskbotError('BAD_UPSTREAM_RESPONSE', `${endpoint}: answer has no message_id`, { endpoint });
  return id;
}

function toTaskbotError(e: unknown, ctx: FeishuCallContext): TaskbotError {
  if (e instanceof TaskbotError) return e;
  if (e instanceof FeishuHttpAnswer) {
    const { status, headers, text } = e.response;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      if (status < 500 && status !== 429) {
        return new TaskbotError('BAD_UPSTREAM_RESPONSE', `${ctx.endpoint}: answer is not JSON (HTTP ${status})`, {
          platform: 'feishu',
          endpoint: ctx.endpoint,
          httpStatus: status,
        });
      }
    }
    return (
      classifyFeishu({ status, headers, body }, ctx) ??
      new TaskbotError('BAD_UPSTREAM_RESPONSE', `${ctx.endpoint}: unexpected HTTP ${status}`, { endpoint: ctx.endpoint })
    );
  }
  const message = e instanceof Error ? e.message : String(e);
  return new TaskbotError('UPSTREAM_UNAVAILABLE', `${ctx.endpoint}: ${message}`, { endpoint: ctx.endpoint }, { cause: e });
}

import type { Dispatcher } from 'undici';
import { TaskbotError } from '../../domain/errors.js';
import { systemClock, type Clock } from '../../domain/clock.js';
import { httpRequest, parseJson } from '../../http/request.js';
import { callWithToken } from '../../http/authorized-call.js';
import { RATE_WINDOW_MS } from '../../http/rate-limit.js';
import { SendPacer } from '../../http/send-pacer.js';
import type { SendLane } from '../../domain/chat.js';
import type { RetryOptions } from '../../http/retry.js';
import { TokenCache, type TokenSource } from '../../http/token-cache.js';
import type { DingtalkTaskApi } from '../../providers/ports.js';
import { classifyDingtalk, classifyOapi, type DingtalkCallContext } from './errors.js';
import type { LimitShare } from '../../domain/limit-share.js';
import { fetchAccessToken } from './access-token.js';

export interface DingtalkApiOptions {
  clientId: string;
  clientSecret: string;
  /** What the operator calls these credentials, for the one line that says they were refused. */
  credentials?: string;
  apiBase: string;
  oapiBase: string;
  timeoutMs: number;
  retry?: RetryOptions;
  clock?: Clock;
  /** Client-side cap per API; DingTalk allows 20 QPS per app per API. */
  perApiPerSecond?: number;
  /** Told each time our per-API limiter holds a call back (metrics). */
  onRateWait?: (limiter: string) => void;
  /** This replica's share of the app's limits; alone when not given. */
  share?: LimitShare;
  /** Where the access token comes from; by default the app's own credentials (oauth2 accessToken). */
  tokenSource?: TokenSource;
}

export const DINGTALK_PER_API_PER_SECOND = 18;
const CARD_SCOPES = ['Card.Instance.Write', 'Card.Streaming.Write'];
const UNION_ID_CACHE_MAX = 10_000;

export interface ApiCall extends DingtalkCallContext {
  /** What a write is worth when the API's budget is short (reads and people's answers: 'people'). */
  lane?: SendLane;
  /** A message DingTalk does not deduplicate: one that may have gone out is not sent again. */
  once?: boolean;
  method?: Dispatcher.HttpMethod;
  path: string;
  query?: Record<string, string | undefined>;
  json?: unknown;
}

/**
 * DingTalk's OpenAPI over undici: a single-flight access token refreshed 5 minutes before
 * it expires and evicted on InvalidAuthentication, retries on network errors, 5xx and QPS
 * limits, and a client-side limit per API below the platform's 20 QPS.
 */
export class DingtalkApi implements DingtalkTaskApi {
  private readonly tokens: TokenCache;
  /** One outbound queue per API: DingTalk counts each API on its own. */
  private readonly pacers = new Map<string, SendPacer>();
  /** staffId → unionId (a promise, so concurrent first lookups share one call). */
  private readonly unionIds = new Map<string, Promise<string>>();
  private readonly retry: RetryOptions;
  private readonly clock: Clock;

  constructor(private readonly opts: DingtalkApiOptions) {
    const clock = opts.clock ?? systemClock;
    this.clock = clock;
    this.retry = { clock, ...opts.retry };
    this.tokens = new TokenCache(opts.tokenSource ?? (() => fetchAccessToken(this.opts)), 5 * 60_000, clock);
  }

  /** One OpenAPI call; returns the parsed JSON of a 2xx answer. */
  call(c: ApiCall): Promise<unknown> {
    return callWithToken(
      this.tokens,
      async (token) => {
        const answered = await this.pace(c.endpoint, c.lane);
        const res = await httpRequest({
          url: `${this.opts.apiBase}${c.path}`,
          method: c.method ?? 'GET',
          query: c.query,
          json: c.json,
          headers: { 'x-acs-dingtalk-access-token': token },
          timeoutMs: this.opts.timeoutMs,
          endpoint: c.endpoint,
        }).finally(answered);
        // Some writes answer 2xx with no body at all (topBoxes/close).
        if (res.status >= 200 && res.status < 300) return res.text.trim() === '' ? undefined : parseJson(res, c.endpoint);
        let body: unknown;
        try {
          body = JSON.parse(res.text);
        } catch {
          body = undefined;
        }
        throw classifyDingtalk(res.status, res.headers, body, c);
      },
      c.once ? { ...this.retry, once: true } : this.retry,
      `dingtalk ${c.endpoint}`,
    );
  }

  storageTask(taskId: string, unionId: string): Promise<unknown> {
    return this.call({
      endpoint: 'storage v1.0 tasks',
      scopes: ['Storage.Task.Read'],
      taskId,
      path: `/v1.0/storage/tasks/${encodeURIComponent(taskId)}`,
      query: { unionId },
    });
  }

  docTask(taskId: string): Promise<unknown> {
    return this.call({
      endpoint: 'doc v2.0 task/info',
      scopes: ['SNS.Document.WorkspaceDocument.Read'],
      taskId,
      path: `/v2.0/doc/task/info/${encodeURIComponent(taskId)}`,
    });
  }

  /** Creates a card from the template and delivers it; fails unless every delivery succeeded. */
  async createAndDeliverCard(body: Record<string, unknown>, lane?: SendLane): Promise<void> {
    const endpoint = 'card v1.0 createAndDeliver';
    const r = (await this.call({
      lane,
      endpoint,
      scopes: CARD_SCOPES,
      target: 'template',
      method: 'POST',
      path: '/v1.0/card/instances/createAndDeliver',
      json: body,
    })) as {
      success?: boolean;
      result?: { deliverResults?: { success?: boolean; errorMsg?: string }[] };
    };
    const failed = r.result?.deliverResults?.find((d) => !d.success);
    if (r.success === false || failed) {
      throw new TaskbotError('UPSTREAM_REJECTED', `${endpoint}: the card was not delivered${failed?.errorMsg ? ` (${failed.errorMsg})` : ''}`, {
        platform: 'dingtalk',
        endpoint,
      });
    }
  }

  /**
   * Creates a card instance without delivering it anywhere (nobody sees it): proves that the
   * template id is one of this app's and that the app may create cards (doctor).
   */
  async createCardInstance(cardTemplateId: string, outTrackId: string): Promise<void> {
    await this.call({
      endpoint: 'card v1.0 create',
      scopes: CARD_SCOPES,
      target: 'template',
      method: 'POST',
      path: '/v1.0/card/instances',
      json: { cardTemplateId, outTrackId, callbackType: 'STREAM', cardData: { cardParamMap: {} } },
    });
  }

  /** Updates a delivered card's data in place (only the keys given). */
  async updateCard(outTrackId: string, cardParamMap: Record<string, string>, lane: SendLane = 'progress'): Promise<void> {
    await this.call({
      lane,
      endpoint: 'card v1.0 update',
      scopes: CARD_SCOPES,
      target: 'card',
      method: 'PUT',
      path: '/v1.0/card/instances',
      json: { outTrackId, cardData: { cardParamMap }, cardUpdateOptions: { updateCardDataByKey: true } },
    });
  }

  /**
   * Closes a top box (吊顶) for everyone in the group (im v1.0 topBoxes/close; the answer has no body).
   * The permission is not documented apart from the card's: the card permissions are named.
   */
  async closeTopBox(body: { openConversationId: string; outTrackId: string; robotCode: string }): Promise<void> {
    await this.call({
      lane: 'final',
      endpoint: 'im v1.0 topBoxes/close',
      scopes: CARD_SCOPES,
      target: 'card',
      method: 'POST',
      path: '/v1.0/im/topBoxes/close',
      json: { ...body, conversationType: 1 },
    });
  }

  /** A markdown message from the robot to a group, or to people (their 1:1 chats with the robot; at most 20). */
  async robotMarkdown(
    robotCode: string,
    to: { group: string } | { users: string[] },
    md: { title: string; text: string },
    lane: SendLane = 'people',
  ): Promise<void> {
    const group = 'group' in to;
    await this.call({
      lane,
      once: true,
      endpoint: group ? 'robot v1.0 groupMessages/send' : 'robot v1.0 oToMessages/batchSend',
      scopes: ['qyapi_robot_sendmsg'],
      method: 'POST',
      path: group ? '/v1.0/robot/groupMessages/send' : '/v1.0/robot/oToMessages/batchSend',
      json: { robotCode, ...(group ? { openConversationId: to.group } : { userIds: to.users }), msgKey: 'sampleMarkdown', msgParam: JSON.stringify(md) },
    });
  }

  /** Replies through a message's session webhook (no token; valid until it expires); `atUserIds` are mentioned (staffIds). */
  async sessionMarkdown(webhook: string, md: { title: string; text: string }, atUserIds?: string[]): Promise<void> {
    const endpoint = 'robot sessionWebhook';
    const json = { msgtype: 'markdown', markdown: md, ...(atUserIds?.length && { at: { atUserIds, isAtAll: false } }) };
    const res = await httpRequest({ url: webhook, method: 'POST', json, timeoutMs: this.opts.timeoutMs, endpoint });
    const b = (res.status < 500 ? parseJson(res, endpoint) : {}) as Record<string, unknown>;
    if (res.status >= 400 || (typeof b.errcode === 'number' && b.errcode !== 0)) {
      throw new TaskbotError(res.status >= 500 ? 'UPSTREAM_UNAVAILABLE' : 'UPSTREAM_REJECTED', `${endpoint}: ${String(b.errmsg ?? `HTTP ${res.status}`)}`, {
        platform: 'dingtalk',
        endpoint,
        httpStatus: res.status,
      });
    }
  }

  /** When the card update API's budget lets a write of `lane` start. */
  cardUpdateReadyAt(lane: SendLane, hold?: number): number {
    return this.pacer('card v1.0 update').readyAt(lane, hold);
  }

  /** Waits for the API's turn (a few calls a second stay free for people's answers, half the rest for progress); call the result once answered. */
  private pace(endpoint: string, lane: SendLane = 'people'): Promise<() => void> {
    return this.pacer(endpoint).acquire('', lane);
  }

  private pacer(endpoint: string): SendPacer {
    let p = this.pacers.get(endpoint);
    if (!p) {
      const perSecond = this.opts.perApiPerSecond ?? DINGTALK_PER_API_PER_SECOND;
      p = new SendPacer(
        { perSecond, reserve: { perSecond: Math.min(3, perSecond - 1) }, progressShare: 0.5 },
        this.clock,
        RATE_WINDOW_MS,
        () => this.opts.onRateWait?.('dingtalk api'),
        this.opts.share,
      );
      this.pacers.set(endpoint, p);
    }
    return p;
  }

  /** staffId (userid) → unionId through the legacy oapi; cached, since it never changes. */
  unionIdOf(staffId: string): Promise<string> {
    let p = this.unionIds.get(staffId);
    if (!p) {
      p = this.lookUpUnionId(staffId);
      // A failed lookup is not remembered.
      p.catch(() => this.unionIds.delete(staffId));
      if (this.unionIds.size >= UNION_ID_CACHE_MAX) this.unionIds.delete(this.unionIds.keys().next().value!);
      this.unionIds.set(staffId, p);
    }
    return p;
  }

  private async lookUpUnionId(staffId: string): Promise<string> {
    const ctx = { endpoint: 'topapi v2 user/get', scopes: ['qyapi_get_member'] };
    const body = await callWithToken(
      this.tokens,
      async (token) => {
        const answered = await this.pace(ctx.endpoint);
        const res = await httpRequest({
          url: `${this.opts.oapiBase}/topapi/v2/user/get`,
          method: 'POST',
          query: { access_token: token },
          json: { userid: staffId, language: 'zh_CN' },
          timeoutMs: this.opts.timeoutMs,
          endpoint: ctx.endpoint,
        }).finally(answered);
        if (res.status >= 500) throw classifyDingtalk(res.status, res.headers, undefined, { ...ctx, scopes: [] });
        const b = parseJson(res, ctx.endpoint) as Record<string, unknown>;
        const err = classifyOapi(b, ctx);
        if (err) throw err;
        return b;
      },
      this.retry,
      `dingtalk ${ctx.endpoint}`,
    );
    const unionId = (body.result as { unionid?: unknown } | undefined)?.unionid;
    if (typeof unionId !== 'string' || !unionId) {
      throw new TaskbotError('BAD_UPSTREAM_RESPONSE', `${ctx.endpoint}: answer has no result.unionid`, { endpoint: ctx.endpoint });
    }
    return unionId;
  }
}

import { TaskbotError, type ErrorCode } from '../../domain/errors.js';
import { retryAfterMs } from '../../http/request.js';

/**
 * Feishu's answer codes, each to our code (whose persistence, in domain/errors.ts, says whether
 * a retry can help) and what it means. Codes not listed: 5xx is transient, anything else refused.
 * Sources: the seed documents, the im message/patch error tables, and codes seen from tenants.
 */
export const FEISHU_CODES: ReadonlyMap<number, { code: ErrorCode; means: string }> = new Map(
  Object.entries({
    99991400: { code: 'RATE_LIMITED', means: 'rate limit' },
    230020: { code: 'RATE_LIMITED', means: 'message rate limit' },
    99991661: { code: 'AUTH_FAILED', means: 'access token missing or malformed' },
    99991663: { code: 'AUTH_FAILED', means: 'tenant access token invalid' },
    99991664: { code: 'AUTH_FAILED', means: 'tenant access token expired' },
    99991671: { code: 'AUTH_FAILED', means: 'access token invalid' },
    99991672: { code: 'PERMISSION_DENIED', means: 'the app lacks a scope' },
    99991679: { code: 'PERMISSION_DENIED', means: 'the user lacks a scope' },
    1061001: { code: 'UPSTREAM_UNAVAILABLE', means: 'internal error' },
    1061002: { code: 'INVALID_TASK_ID', means: 'the task id is not valid' },
    1061003: { code: 'TASK_NOT_FOUND', means: 'no such task' },
    1061004: { code: 'PERMISSION_DENIED', means: 'the app may not see this item' },
    1430001: { code: 'AUTH_FAILED', means: 'unknown tenant' },
    1430002: { code: 'INVALID_ARGUMENT', means: 'page size rejected' },
    1430003: { code: 'INVALID_ARGUMENT', means: 'no such report rule' },
    230001: { code: 'UPSTREAM_REJECTED', means: 'invalid request parameter' },
    230002: { code: 'CARD_GONE', means: 'the bot is not in the chat' },
    230011: { code: 'CARD_GONE', means: 'the message was recalled' },
    230110: { code: 'CARD_GONE', means: 'the message was deleted' },
    231003: { code: 'CARD_GONE', means: 'the message was deleted' },
    232009: { code: 'CARD_GONE', means: 'the chat was dissolved' },
    230031: { code: 'CARD_GONE', means: 'the message is older than 14 days and can no longer be updated' },
    230099: { code: 'CARD_REJECTED', means: 'the card content is invalid' },
    230025: { code: 'CARD_REJECTED', means: 'the card content is too long' },
    11246: { code: 'CARD_REJECTED', means: 'a mention in the card is invalid' },
  }).map(([k, v]) => [Number(k), v as { code: ErrorCode; means: string }]),
);

export interface FeishuAnswer {
  status: number;
  headers: Record<string, string>;
  /** The parsed body, if it was JSON. */
  body: unknown;
}

export interface FeishuCallContext {
  endpoint: string;
  /** The scopes this endpoint accepts, named when the app lacks them and the answer does not say. */
  scopes: string[];
  taskId?: string;
}

/** Turns a Feishu answer that is not a success into a typed error, or returns undefined for `code: 0` with HTTP 2xx. */
export function classifyFeishu(ans: FeishuAnswer, ctx: FeishuCallContext): TaskbotError | undefined {
  const body = (typeof ans.body === 'object' && ans.body !== null ? ans.body : {}) as Record<string, unknown>;
  const code = typeof body.code === 'number' ? body.code : undefined;
  const msg = typeof body.msg === 'string' ? body.msg : '';
  if (ans.status >= 200 && ans.status < 300 && code === 0) return undefined;

  const base = {
    platform: 'feishu',
    endpoint: ctx.endpoint,
    httpStatus: ans.status,
    upstreamCode: code,
    upstreamMessage: msg,
    taskId: ctx.taskId,
  };
  const where = `${ctx.endpoint} answered ${code ?? `HTTP ${ans.status}`}${msg ? ` (${msg})` : ''}`;

  const known = code === undefined ? undefined : FEISHU_CODES.get(code);
  if (known?.code === 'RATE_LIMITED' || (!known && ans.status === 429)) {
    const wait = retryAfterMs(ans.headers, 'x-ogw-ratelimit-reset') ?? retryAfterMs(ans.headers) ?? (code === 230020 ? 1000 : undefined);
    return new TaskbotError('RATE_LIMITED', `Feishu rate limit: ${where}`, { ...base, retryAfterMs: wait });
  }
  if (known?.code === 'AUTH_FAILED' && code !== 1430001) {
    return new TaskbotError('AUTH_FAILED', `Feishu rejected the access token: ${where}`, { ...base, tokenInvalid: true });
  }
  if (known?.code === 'PERMISSION_DENIED' && code !== 1061004) {
    const scopes = scopesFromMessage(msg) ?? ctx.scopes;
    return new TaskbotError('PERMISSION_DENIED', `the Feishu app lacks a scope for ${ctx.endpoint}: grant one of ${scopes.join(', ')}`, {
      ...base,
      scopes,
    });
  }
  if (known) return new TaskbotError(known.code, `${known.means}: ${where}`, base);
  if (ans.status >= 500) return new TaskbotError('UPSTREAM_UNAVAILABLE', `Feishu server error: ${where}`, base);
  // contact v2 has no documented "not found" code: only a task lookup reads 404 / "not exist" that way.
  if (ctx.taskId !== undefined && (ans.status === 404 || /not (exist|found)/i.test(msg))) {
    return new TaskbotError('TASK_NOT_FOUND', `no such task: ${where}`, base);
  }
  if (code === undefined) {
    return new TaskbotError('BAD_UPSTREAM_RESPONSE', `${ctx.endpoint}: answer without a code (HTTP ${ans.status})`, base);
  }
  return new TaskbotError('UPSTREAM_REJECTED', `Feishu refused: ${where}`, base);
}

/** "…One of the following scopes is required: [a, b]…" → ['a', 'b']. */
function scopesFromMessage(msg: string): string[] | undefined {
  const m = /\[([a-z0-9_.:, -]+)\]/i.exec(msg);
  if (!m) return undefined;
  const scopes = m[1]!
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return scopes.length > 0 ? scopes : undefined;
}

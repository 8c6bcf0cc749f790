import { TaskbotError } from '../../domain/errors.js';
import { retryAfterMs } from '../../http/request.js';

/** Feishu's answer codes we act on. Anything else non-zero is UPSTREAM_REJECTED with the code kept. */
const TOKEN_INVALID = new Set([99991661, 99991663, 99991664, 99991671]);
const SCOPE_MISSING = new Set([99991672, 99991679]);
const RATE_LIMIT = 99991400;

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

  if (code === RATE_LIMIT || ans.status === 429) {
    const wait = retryAfterMs(ans.headers, 'x-ogw-ratelimit-reset') ?? retryAfterMs(ans.headers);
    return new TaskbotError('RATE_LIMITED', `Feishu rate limit: ${where}`, { ...base, retryAfterMs: wait });
  }
  if (code !== undefined && TOKEN_INVALID.has(code)) {
    return new TaskbotError('AUTH_FAILED', `Feishu rejected the access token: ${where}`, { ...base, tokenInvalid: true });
  }
  if (code !== undefined && SCOPE_MISSING.has(code)) {
    const scopes = scopesFromMessage(msg) ?? ctx.scopes;
    return new TaskbotError('PERMISSION_DENIED', `the Feishu app lacks a scope for ${ctx.endpoint}: grant one of ${scopes.join(', ')}`, {
      ...base,
      scopes,
    });
  }
  switch (code) {
    case 1061001:
      return new TaskbotError('UPSTREAM_UNAVAILABLE', `Feishu internal error: ${where}`, base);
    case 1061002:
      return new TaskbotError('INVALID_TASK_ID', `Feishu does not accept this task id: ${where}`, base);
    case 1061003:
      return new TaskbotError('TASK_NOT_FOUND', `no such task: ${where}`, base);
    case 1061004:
      return new TaskbotError('PERMISSION_DENIED', `the app may not see this item: ${where}`, base);
    case 230011:
      return new TaskbotError('CARD_GONE', `the message was recalled: ${where}`, base);
    case 230031:
      return new TaskbotError('CARD_GONE', `the message is older than 14 days and can no longer be updated: ${where}`, base);
    case 230020:
      return new TaskbotError('RATE_LIMITED', `Feishu message rate limit: ${where}`, { ...base, retryAfterMs: 1000 });
    case 1430001:
      return new TaskbotError('AUTH_FAILED', `Feishu does not know this tenant: ${where}`, base);
    case 1430002:
      return new TaskbotError('INVALID_ARGUMENT', `page size rejected: ${where}`, base);
    case 1430003:
      return new TaskbotError('INVALID_ARGUMENT', `no such report rule: ${where}`, base);
  }
  if (ans.status >= 500) return new TaskbotError('UPSTREAM_UNAVAILABLE', `Feishu server error: ${where}`, base);
  if (ans.status === 404 || /not (exist|found)/i.test(msg)) {
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
  const scopes = m[1]!.split(',').map((s) => s.trim()).filter(Boolean);
  return scopes.length > 0 ? scopes : undefined;
}

import { TaskbotError, type ErrorCode } from '../../domain/errors.js';
import { retryAfterMs } from '../../http/request.js';

export interface DingtalkCallContext {
  endpoint: string;
  /** Permission points this endpoint needs, named when the answer does not say. */
  scopes: string[];
  taskId?: string;
  /** What the call acts on: for a card, "does not exist" means the card is gone (or the template is wrong). */
  target?: 'card' | 'template';
}

/** DingTalk asks for about a second after a QPS limit answer. */
const QPS_WAIT_MS = 1000;

const NOT_EXIST = /not.?exist|not.?found/i;

/**
 * DingTalk's OpenAPI answer codes, first match wins: each to our code (whose persistence, in
 * domain/errors.ts, says whether a retry can help). Codes not matched: 5xx and 404 by status,
 * anything else refused.
 */
export const DINGTALK_RULES: readonly { match: (code: string, ctx: DingtalkCallContext, message: string) => boolean; code: ErrorCode; means: string }[] = [
  { match: (c) => c === 'InvalidAuthentication', code: 'AUTH_FAILED', means: 'access token invalid' },
  { match: (c) => c.startsWith('Forbidden.AccessDenied.QpsLimit'), code: 'RATE_LIMITED', means: 'QPS limit' },
  { match: (c) => c === 'Forbidden.AccessDenied.ApiCountLimitForOrg', code: 'QUOTA_EXCEEDED', means: "the organisation's monthly API quota is used up" },
  { match: (c) => c.startsWith('Forbidden.AccessDenied'), code: 'PERMISSION_DENIED', means: 'the app lacks a permission' },
  { match: (c) => c === 'taskNotExist', code: 'TASK_NOT_FOUND', means: 'no such task' },
  { match: (c, ctx, m) => ctx.target === 'card' && (NOT_EXIST.test(c) || NOT_EXIST.test(m)), code: 'CARD_GONE', means: 'the card no longer exists' },
  {
    match: (c, ctx, m) => ctx.target === 'template' && /template/i.test(`${c} ${m}`),
    code: 'NOT_CONFIGURED',
    means: 'the card template is not usable: check DINGTALK_CARD_TEMPLATE_ID (DINGTALK_TOPBOX_TEMPLATE_ID for the top box)',
  },
  // A paramError that names the sender's unionId is about the person, not the task id.
  { match: (c, _ctx, m) => c.startsWith('paramError') && /union.?id/i.test(`${c} ${m}`), code: 'INVALID_ARGUMENT', means: "the sender's unionId was refused" },
  { match: (c) => c === 'paramError' || c === 'paramError.taskId', code: 'INVALID_TASK_ID', means: 'the task id is not valid' },
  { match: (c) => c.startsWith('paramError'), code: 'INVALID_ARGUMENT', means: 'a parameter was refused' },
  { match: (c) => c === 'systemError' || c === 'unknownError' || c === 'operationTimeout', code: 'UPSTREAM_UNAVAILABLE', means: 'server error' },
];

/** Turns a non-2xx DingTalk OpenAPI answer (`{code, message, requestid}`) into a typed error. */
export function classifyDingtalk(status: number, headers: Record<string, string>, body: unknown, ctx: DingtalkCallContext): TaskbotError {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const code = typeof b.code === 'string' ? b.code : '';
  const message = typeof b.message === 'string' ? b.message : '';
  const base = {
    platform: 'dingtalk',
    endpoint: ctx.endpoint,
    httpStatus: status,
    upstreamCode: code || undefined,
    upstreamMessage: message,
    taskId: ctx.taskId,
  };
  const where = `${ctx.endpoint} answered ${code || `HTTP ${status}`}${message ? ` (${message})` : ''}`;
  const rule = code ? DINGTALK_RULES.find((r) => r.match(code, ctx, message)) : undefined;
  if (rule?.code === 'AUTH_FAILED') return new TaskbotError('AUTH_FAILED', `DingTalk rejected the access token: ${where}`, { ...base, tokenInvalid: true });
  if (rule?.code === 'RATE_LIMITED' || (!rule && status === 429)) {
    return new TaskbotError('RATE_LIMITED', `DingTalk rate limit: ${where}`, { ...base, retryAfterMs: retryAfterMs(headers) ?? QPS_WAIT_MS });
  }
  if (rule?.code === 'PERMISSION_DENIED') {
    const scopes = requiredScopes(b) ?? ctx.scopes;
    return new TaskbotError('PERMISSION_DENIED', `the DingTalk app lacks a permission for ${ctx.endpoint}: grant ${scopes.join(', ')}`, { ...base, scopes });
  }
  if (rule) return new TaskbotError(rule.code, `${rule.means}: ${where}`, base);
  if (status >= 500) return new TaskbotError('UPSTREAM_UNAVAILABLE', `DingTalk server error: ${where}`, base);
  if (status === 404 && ctx.taskId !== undefined) return new TaskbotError('TASK_NOT_FOUND', `no such task: ${where}`, base);
  if (!code) return new TaskbotError('BAD_UPSTREAM_RESPONSE', `${ctx.endpoint}: HTTP ${status} without an error code`, base);
  return new TaskbotError('UPSTREAM_REJECTED', `DingTalk refused: ${where}`, base);
}

/** Permission-denied answers may carry `accessdenieddetail.requiredScopes`. */
function requiredScopes(b: Record<string, unknown>): string[] | undefined {
  const d = b.accessdenieddetail as { requiredScopes?: unknown } | undefined;
  const s = d?.requiredScopes;
  return Array.isArray(s) && s.length > 0 && s.every((x) => typeof x === 'string') ? (s as string[]) : undefined;
}

/** The legacy oapi answers HTTP 200 with `{errcode, errmsg}`. */
const OAPI_TOKEN_INVALID = new Set([40014, 42001, 40001]);
const OAPI_RATE_LIMIT = new Set([90002, 90018]);

export function classifyOapi(body: Record<string, unknown>, ctx: DingtalkCallContext): TaskbotError | undefined {
  const errcode = typeof body.errcode === 'number' ? body.errcode : undefined;
  if (errcode === 0) return undefined;
  const errmsg = typeof body.errmsg === 'string' ? body.errmsg : '';
  const base = { platform: 'dingtalk', endpoint: ctx.endpoint, upstreamCode: errcode, upstreamMessage: errmsg };
  const where = `${ctx.endpoint} answered ${errcode ?? '?'}${errmsg ? ` (${errmsg})` : ''}`;
  if (errcode === undefined) return new TaskbotError('BAD_UPSTREAM_RESPONSE', `${ctx.endpoint}: answer without errcode`, base);
  if (OAPI_TOKEN_INVALID.has(errcode)) {
    return new TaskbotError('AUTH_FAILED', `DingTalk rejected the access token: ${where}`, { ...base, tokenInvalid: true });
  }
  if (OAPI_RATE_LIMIT.has(errcode)) {
    return new TaskbotError('RATE_LIMITED', `DingTalk rate limit: ${where}`, { ...base, retryAfterMs: QPS_WAIT_MS });
  }
  if (errcode === -1) return new TaskbotError('UPSTREAM_UNAVAILABLE', `DingTalk is busy: ${where}`, base);
  if (errcode === 60121) return new TaskbotError('INVALID_ARGUMENT', `DingTalk does not know this user: ${where}`, base);
  if (errcode === 60011 || errcode === 88) {
    return new TaskbotError('PERMISSION_DENIED', `the DingTalk app lacks a permission for ${ctx.endpoint}: grant ${ctx.scopes.join(', ')}`, {
      ...base,
      scopes: ctx.scopes,
    });
  }
  return new TaskbotError('UPSTREAM_REJECTED', `DingTalk refused: ${where}`, base);
}

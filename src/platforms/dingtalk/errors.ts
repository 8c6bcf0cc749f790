import { TaskbotError } from '../../domain/errors.js';
import { retryAfterMs } from '../../http/request.js';

export interface DingtalkCallContext {
  endpoint: string;
  /** Permission points this endpoint needs, named when the answer does not say. */
  scopes: string[];
  taskId?: string;
}

/** DingTalk asks for about a second after a QPS limit answer. */
const QPS_WAIT_MS = 1000;

/** Turns a non-2xx DingTalk OpenAPI answer (`{code, message, requestid}`) into a typed error. */
export function classifyDingtalk(
  status: number,
  headers: Record<string, string>,
  body: unknown,
  ctx: DingtalkCallContext,
): TaskbotError {
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

  if (code === 'InvalidAuthentication') {
    return new TaskbotError('AUTH_FAILED', `DingTalk rejected the access token: ${where}`, { ...base, tokenInvalid: true });
  }
  if (code.startsWith('Forbidden.AccessDenied.QpsLimit') || status === 429) {
    return new TaskbotError('RATE_LIMITED', `DingTalk rate limit: ${where}`, {
      ...base,
      retryAfterMs: retryAfterMs(headers) ?? QPS_WAIT_MS,
    });
  }
  if (code === 'Forbidden.AccessDenied.ApiCountLimitForOrg') {
    return new TaskbotError('QUOTA_EXCEEDED', `the organisation's monthly DingTalk API quota is used up: ${where}`, base);
  }
  if (code.startsWith('Forbidden.AccessDenied')) {
    const scopes = requiredScopes(b) ?? ctx.scopes;
    return new TaskbotError('PERMISSION_DENIED', `the DingTalk app lacks a permission for ${ctx.endpoint}: grant ${scopes.join(', ')}`, {
      ...base,
      scopes,
    });
  }
  if (code === 'taskNotExist') return new TaskbotError('TASK_NOT_FOUND', `no such task: ${where}`, base);
  if (code === 'paramError' || code === 'paramError.taskId') {
    return new TaskbotError('INVALID_TASK_ID', `DingTalk does not accept this task id: ${where}`, base);
  }
  if (code.startsWith('paramError')) return new TaskbotError('INVALID_ARGUMENT', `DingTalk rejected a parameter: ${where}`, base);
  if (status >= 500 || code === 'systemError' || code === 'unknownError' || code === 'operationTimeout') {
    return new TaskbotError('UPSTREAM_UNAVAILABLE', `DingTalk server error: ${where}`, base);
  }
  if (status === 404) return new TaskbotError('TASK_NOT_FOUND', `no such task: ${where}`, base);
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

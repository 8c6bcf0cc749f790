import { TaskbotError } from '../../domain/errors.js';
import { httpRequest, parseJson } from '../../http/request.js';
import { classifyDingtalk } from './errors.js';

/** The single-app variables holding a DingTalk app's credentials. */
export const DINGTALK_CREDENTIALS = 'DINGTALK_CLIENT_ID / DINGTALK_CLIENT_SECRET';

/**
 * An app's access token (v1.0 oauth2), with how long it lasts: the token source the API client's
 * cache refreshes from. Refused credentials are AUTH_FAILED, for the operator to fix.
 */
export async function fetchAccessToken(o: {
  apiBase: string;
  clientId: string;
  clientSecret: string;
  timeoutMs: number;
  credentials?: string;
}): Promise<{ token: string; expiresInSec: number }> {
  const endpoint = 'dingtalk oauth2 accessToken';
  const res = await httpRequest({
    url: `${o.apiBase}/v1.0/oauth2/accessToken`,
    method: 'POST',
    json: { appKey: o.clientId, appSecret: o.clientSecret },
    timeoutMs: o.timeoutMs,
    endpoint,
  });
  if (res.status >= 500 || res.status === 429) throw classifyDingtalk(res.status, res.headers, undefined, { endpoint, scopes: [] });
  const body = parseJson(res, endpoint) as { accessToken?: unknown; expireIn?: unknown; message?: unknown };
  if (res.status !== 200) {
    throw new TaskbotError('AUTH_FAILED', `DingTalk refused ${o.credentials ?? DINGTALK_CREDENTIALS}: ${String(body.message ?? `HTTP ${res.status}`)}`, {
      platform: 'dingtalk',
      endpoint,
      httpStatus: res.status,
    });
  }
  if (typeof body.accessToken !== 'string' || typeof body.expireIn !== 'number') {
    throw new TaskbotError('BAD_UPSTREAM_RESPONSE', `${endpoint}: answer has no accessToken`, { endpoint });
  }
  return { token: body.accessToken, expiresInSec: body.expireIn };
}

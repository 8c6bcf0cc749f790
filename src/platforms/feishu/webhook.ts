import { createHash, timingSafeEqual } from 'node:crypto';
import { lark, type LarkSdk } from './sdk.js';
import type { Logger } from 'pino';

export interface WebhookConfig {
  /** The app whose path this is: an event whose header names another app is refused. */
  appId: string;
  encryptKey: string;
  verificationToken: string;
  dispatcher: LarkSdk.EventDispatcher;
  now?: () => number;
  logger?: Logger;
}

export interface WebhookRequest {
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer;
}

export interface WebhookAnswer {
  status: number;
  body: unknown;
}

/** Requests signed more than this far from our clock are refused (replays). */
export const MAX_SKEW_MS = 5 * 60_000;

const header = (h: WebhookRequest['headers'], name: string) => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Webhook mode, checked by us (the SDK's adapters hash a re-serialised body, compare with ===, never
 * look at the timestamp or the token, and answer 200 to a bad signature): signature over the raw
 * bytes in constant time, timestamp within ±5 min, verification token, then the dispatcher.
 */
export async function handleFeishuWebhook(req: WebhookRequest, cfg: WebhookConfig): Promise<WebhookAnswer> {
  const now = cfg.now?.() ?? Date.now();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(req.rawBody.toString('utf8')) as Record<string, unknown>;
  } catch {
    return { status: 400, body: { error: 'body is not JSON' } };
  }
  const plain = body.encrypt !== undefined ? decrypt(body.encrypt, cfg.encryptKey) : body;
  // Encrypted with another key: not this app's (another app's event, or a forgery).
  if (!plain) return { status: 401, body: { error: 'cannot decrypt' } };

  // The URL check when the URL is saved in the console: prove we know the token, echo the challenge.
  if (plain.type === 'url_verification') {
    if (typeof plain.token !== 'string' || !sameText(plain.token, cfg.verificationToken)) return { status: 401, body: { error: 'bad token' } };
    return { status: 200, body: { challenge: plain.challenge } };
  }

  const ts = header(req.headers, 'x-lark-request-timestamp');
  const nonce = header(req.headers, 'x-lark-request-nonce');
  const signature = header(req.headers, 'x-lark-signature');
  if (!ts || !nonce || !signature) return { status: 401, body: { error: 'unsigned request' } };
  const expected = createHash('sha256')
    .update(ts + nonce + cfg.encryptKey)
    .update(req.rawBody)
    .digest('hex');
  if (!sameText(expected, signature)) return { status: 401, body: { error: 'bad signature' } };
  const sentAt = Number(ts) * 1000;
  if (!Number.isFinite(sentAt) || Math.abs(now - sentAt) > MAX_SKEW_MS) return { status: 401, body: { error: 'stale timestamp' } };
  const token = (plain.header as { token?: unknown } | undefined)?.token ?? plain.token;
  if (typeof token !== 'string' || !sameText(token, cfg.verificationToken)) return { status: 401, body: { error: 'bad verification token' } };
  // Several apps may share keys by mistake: an event is only ever the app's whose path it came to.
  const appId = (plain.header as { app_id?: unknown } | undefined)?.app_id;
  if (appId !== undefined && appId !== cfg.appId) return { status: 401, body: { error: "another app's event" } };

  // Checked: the dispatcher only parses (and decrypts) now.
  const result = await cfg.dispatcher.invoke(body, { needCheck: false });
  return { status: 200, body: typeof result === 'object' && result !== null ? result : {} };
}

function decrypt(encrypt: unknown, key: string): Record<string, unknown> | undefined {
  if (typeof encrypt !== 'string') return undefined;
  try {
    return JSON.parse(new lark.AESCipher(key).decrypt(encrypt)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

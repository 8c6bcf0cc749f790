import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { feishuEnv } from './env.js';

/** The webhook secrets the tests configure the bot with. */
export const ENCRYPT_KEY = 'test-encrypt-key-123';
export const VERIFICATION_TOKEN = 'v-token';

/** Feishu's encrypted body: AES-256-CBC with sha256(key), the IV before the ciphertext, base64. */
export function encrypt(plain: unknown, key = ENCRYPT_KEY): string {
  const k = createHash('sha256').update(key).digest();
  const iv = randomBytes(16);
  const c = createCipheriv('aes-256-cbc', k, iv);
  return Buffer.concat([iv, c.update(JSON.stringify(plain), 'utf8'), c.final()]).toString('base64');
}

/** Headers Feishu signs a delivery with: sha256(timestamp + nonce + key + body). */
export function signed(body: string, o: { ts?: number; key?: string } = {}): Record<string, string> {
  const ts = String(Math.floor((o.ts ?? Date.now()) / 1000));
  const nonce = randomBytes(8).toString('hex');
  const signature = createHash('sha256')
    .update(ts + nonce + (o.key ?? ENCRYPT_KEY) + body)
    .digest('hex');
  return { 'x-lark-request-timestamp': ts, 'x-lark-request-nonce': nonce, 'x-lark-signature': signature, 'content-type': 'application/json' };
}

/** The bot's environment for webhook mode against a fake Feishu. */
export function webhookEnv(fake: { appId: string; appSecret: string; baseUrl: string }): Record<string, string> {
  return {
    ...feishuEnv(fake),
    FEISHU_EVENT_MODE: 'webhook',
    FEISHU_ENCRYPT_KEY: ENCRYPT_KEY,
    FEISHU_VERIFICATION_TOKEN: VERIFICATION_TOKEN,
  };
}

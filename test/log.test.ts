import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { loadConfig } from '../src/config.js';

describe('logger redaction', () => {
  it('never writes app secrets, tokens, Authorization or the DingTalk token header', () => {
    const lines: string[] = [];
    const log = createLogger('info', { write: (s: string) => void lines.push(s) });
    const config = loadConfig({
      FEISHU_APP_ID: 'cli_a1b2c3d4e5f60718',
      FEISHU_APP_SECRET: 'FEISHU-SECRET-1',
      FEISHU_EVENT_MODE: 'webhook',
      FEISHU_ENCRYPT_KEY: 'ENCRYPT-KEY-2',
      FEISHU_VERIFICATION_TOKEN: 'VERIFY-3',
      DINGTALK_CLIENT_ID: 'ding',
      DINGTALK_CLIENT_SECRET: 'DING-SECRET-4',
    });
    log.info({ config }, 'config');
    log.info({ req: { headers: { Authorization: 'Bearer t-TOKEN-5', 'x-acs-dingtalk-access-token': 'DT-TOKEN-6' } } }, 'request');
    log.info({ body: { tenant_access_token: 'TOKEN-7', expire: 7200 } }, 'token answer');
    log.info({ body: { accessToken: 'TOKEN-8', appSecret: 'DING-SECRET-9' } }, 'token answer');
    const out = lines.join('');
    for (const secret of ['FEISHU-SECRET-1', 'ENCRYPT-KEY-2', 'VERIFY-3', 'DING-SECRET-4', 'TOKEN-5', 'DT-TOKEN-6', 'TOKEN-7', 'TOKEN-8', 'DING-SECRET-9']) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain('[redacted]');
    expect(out).toContain('cli_a1b2c3d4e5f60718');
  });
});

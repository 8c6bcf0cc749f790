import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, exportProxySettings, loadConfig, readEnvironment } from '../src/config.js';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('has the documented defaults and no platforms when nothing is set', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      databaseUrl: 'sqlite:./data/taskbot.db',
      http: { host: '127.0.0.1', port: 3000 },
      locale: 'zh',
      digestTimeZone: 'Asia/Shanghai',
      apps: [],
      logLevel: 'info',
    });
  });

  it('enables each platform from its credentials, with robotCode defaulting to the client id', () => {
    const c = loadConfig({
      FEISHU_APP_ID: 'cli_a1b2c3d4e5f60718',
      FEISHU_APP_SECRET: 's',
      FEISHU_DOMAIN: 'http://127.0.0.1:9/',
      DINGTALK_CLIENT_ID: 'ding1',
      DINGTALK_CLIENT_SECRET: 's2',
      ALLOWED_CHAT_IDS: ' oc_1, oc_2 ,,',
    });
    // The single-app variables are the apps `feishu` and `dingtalk`, with the global lists as theirs.
    expect(c.apps).toMatchObject([
      { id: 'feishu', platform: 'feishu', appId: 'cli_a1b2c3d4e5f60718', domain: 'http://127.0.0.1:9', eventMode: 'ws', allowedChatIds: ['oc_1', 'oc_2'] },
      { id: 'dingtalk', platform: 'dingtalk', clientId: 'ding1', robotCode: 'ding1', apiBase: 'https://api.dingtalk.com', allowedChatIds: ['oc_1', 'oc_2'] },
    ]);
    const robot = loadConfig({ DINGTALK_CLIENT_ID: 'a', DINGTALK_CLIENT_SECRET: 'b', DINGTALK_ROBOT_CODE: 'r' }).apps[0];
    expect(robot?.platform === 'dingtalk' && robot.robotCode).toBe('r');
  });

  it('treats empty values (a copied .env.example) as unset', () => {
    expect(loadConfig({ FEISHU_APP_ID: '', FEISHU_APP_SECRET: ' ', HTTP_PORT: '' }).apps).toEqual([]);
  });

  it.each([
    [{ FEISHU_APP_ID: 'cli_a1b2c3d4e5f60718' }, /^FEISHU_APP_SECRET is missing/],
    [{ DINGTALK_CLIENT_SECRET: 'x' }, /^DINGTALK_CLIENT_ID is missing/],
    [{ FEISHU_APP_ID: 'myapp', FEISHU_APP_SECRET: 's' }, /^FEISHU_APP_ID must look like cli_/],
    [
      { FEISHU_APP_ID: 'cli_a1b2c3d4e5f60718', FEISHU_APP_SECRET: 's', FEISHU_EVENT_MODE: 'webhook', FEISHU_VERIFICATION_TOKEN: 'v' },
      /^FEISHU_ENCRYPT_KEY is required when FEISHU_EVENT_MODE=webhook/,
    ],
    [{ FEISHU_EVENT_MODE: 'push' }, /^FEISHU_EVENT_MODE must be ws or webhook/],
    [{ FEISHU_DOMAIN: 'open.feishu.cn' }, /^FEISHU_DOMAIN must be an http\(s\) URL/],
    [{ DATABASE_URL: 'mysql://x' }, /^DATABASE_URL must be sqlite:PATH or postgres:\/\//],
    [{ HTTP_PORT: '70000' }, /^HTTP_PORT must be between 0 and 65535/],
    [{ HTTP_PORT: 'abc' }, /^HTTP_PORT must be a port number/],
    [{ BOT_LOCALE: 'fr' }, /^BOT_LOCALE must be zh or en/],
    [{ DIGEST_TIMEZONE: 'Mars/Olympus' }, /^DIGEST_TIMEZONE must be an IANA time zone/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL must be one of/],
  ])('%o stops start-up with one line naming the variable', (env, message) => {
    const p = problems(env as Record<string, string>);
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(message);
    expect(p[0]).not.toContain('\n');
  });

  it('reads an optional .env file under the real environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskbot-env-'));
    const file = join(dir, '.env');
    writeFileSync(file, 'BOT_LOCALE=en\nHTTP_PORT=4000\n# a comment\n');
    const env = readEnvironment({ HTTP_PORT: '5000' }, file);
    expect(env).toMatchObject({ BOT_LOCALE: 'en', HTTP_PORT: '5000' });
    expect(readEnvironment({ A: '1' }, join(dir, 'missing'))).toEqual({ A: '1' });
  });

  it('refuses a proxy URL without its scheme, naming the variable and never repeating the value (it may hold a password)', () => {
    const p = problems({ HTTPS_PROXY: 'ops:s3cret@proxy.corp:3128', http_proxy: 'http://proxy.corp:3128' });
    expect(p).toEqual(['HTTPS_PROXY must be a proxy URL with its scheme, e.g. http://user:password@proxy.example.com:3128']);
    expect(p.join()).not.toContain('s3cret');
    expect(() => loadConfig({ HTTPS_PROXY: 'http://ops:s3cret@proxy.corp:3128', ALL_PROXY: 'socks5://127.0.0.1:1080' })).not.toThrow();
  });

  it('proxy settings from the .env file join the process environment; the real environment wins', () => {
    const target: NodeJS.ProcessEnv = { HTTP_PROXY: 'http://from-env:1' };
    exportProxySettings(
      { HTTPS_PROXY: 'http://from-file:2', HTTP_PROXY: 'http://from-file:3', NO_PROXY: '.corp', FEISHU_APP_ID: 'cli_x', no_proxy: ' ' },
      target,
    );
    expect(target).toEqual({ HTTPS_PROXY: 'http://from-file:2', HTTP_PROXY: 'http://from-env:1', NO_PROXY: '.corp' });
  });
});

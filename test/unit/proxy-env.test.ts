import { afterEach, describe, expect, it, vi } from 'vitest';
import { PROXY_SETTINGS } from '../../src/config.js';
import { maskProxy, proxyFor } from '../../src/http/proxy.js';

const P = 'http://proxy.corp:3128';
const env = (vars: Record<string, string>) => {
  for (const k of PROXY_SETTINGS) vi.stubEnv(k, '');
  for (const [k, v] of Object.entries(vars)) vi.stubEnv(k, v);
};

describe('which proxy a connection goes through', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('https and wss use HTTPS_PROXY, http and ws use HTTP_PROXY, ALL_PROXY covers both; none set: direct', () => {
    env({ HTTPS_PROXY: P, HTTP_PROXY: 'http://plain:8080' });
    expect(proxyFor('https://open.feishu.cn/open-apis')).toBe(P);
    expect(proxyFor('wss://msg-frontier.feishu.cn/ws/v2')).toBe(P);
    expect(proxyFor('http://oapi.dingtalk.com/x')).toBe('http://plain:8080');
    expect(proxyFor('ws://wss-open-connection.dingtalk.com/')).toBe('http://plain:8080');
    env({ ALL_PROXY: P });
    expect(proxyFor('wss://x.example')).toBe(P);
    env({});
    expect(proxyFor('https://open.feishu.cn')).toBeUndefined();
  });

  it('lower case wins over upper case, as curl reads them', () => {
    env({ HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:2', NO_PROXY: 'open.feishu.cn', no_proxy: 'api.dingtalk.com' });
    expect(proxyFor('https://open.feishu.cn')).toBe('http://lower:2');
    expect(proxyFor('https://api.dingtalk.com')).toBeUndefined();
  });

  it('NO_PROXY: exact hosts, domain suffixes, host:port, and * for everything', () => {
    env({ HTTPS_PROXY: P, NO_PROXY: 'internal.corp, .dingtalk.com,open.feishu.cn:8443 localhost' });
    expect(proxyFor('https://internal.corp/x')).toBeUndefined();
    expect(proxyFor('https://a.internal.corp/x')).toBe(P); // an exact host is not a suffix
    expect(proxyFor('https://api.dingtalk.com/v1.0')).toBeUndefined();
    expect(proxyFor('wss://wss-open-connection.dingtalk.com')).toBeUndefined();
    expect(proxyFor('https://open.feishu.cn:8443')).toBeUndefined();
    expect(proxyFor('https://open.feishu.cn')).toBe(P); // another port
    expect(proxyFor('https://localhost:9000')).toBeUndefined();
    env({ HTTPS_PROXY: P, NO_PROXY: '*' });
    expect(proxyFor('https://open.feishu.cn')).toBeUndefined();
  });

  it('never shows the password of a proxy', () => {
    expect(maskProxy('http://ops:s3cr%40t@proxy.corp:3128')).toBe('http://ops:***@proxy.corp:3128');
    expect(maskProxy('http://proxy.corp:3128/')).toBe('http://proxy.corp:3128');
    expect(maskProxy('not a url')).toBe('(unparsable proxy URL)');
  });
});

import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Dispatcher, getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PROXY_SETTINGS } from '../../src/config.js';
import { maskProxy, proxyFor } from '../../src/http/proxy.js';
import { httpRequest } from '../../src/http/request.js';

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
    env({ HTTPS_PROXY: 'proxy.corp:3128' }); // no scheme: the target's, as proxy-from-env read it
    expect(proxyFor('wss://x.example')).toBe('https://proxy.corp:3128');
    env({});
    expect(proxyFor('https://open.feishu.cn')).toBeUndefined();
  });

  it('lower case wins over upper case, as curl reads them', () => {
    env({ HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:2', NO_PROXY: 'open.feishu.cn', no_proxy: 'api.dingtalk.com' });
    expect(proxyFor('https://open.feishu.cn')).toBe('http://lower:2');
    expect(proxyFor('https://api.dingtalk.com')).toBeUndefined();
  });

  it('NO_PROXY as curl reads it: names with the names under them, addresses, CIDR ranges (IP targets only), ports, *; garbage matches nothing', () => {
    // [NO_PROXY, target, goes direct]
    const table: [string, string, boolean][] = [
      // names: exact, and every name under them (a leading . or *. changes nothing), at a label boundary only
      ['feishu.cn', 'https://feishu.cn', true],
      ['feishu.cn', 'https://open.feishu.cn/open-apis', true],
      ['feishu.cn', 'wss://msg-frontier.feishu.cn/ws/v2', true],
      ['feishu.cn', 'https://notfeishu.cn', false],
      ['feishu.cn', 'https://feishu.cn.evil.example', false],
      ['.feishu.cn', 'https://feishu.cn', true],
      ['.feishu.cn', 'https://open.feishu.cn', true],
      ['.feishu.cn', 'https://notfeishu.cn', false],
      ['*.feishu.cn', 'https://open.feishu.cn', true],
      ['*feishu.cn', 'https://notfeishu.cn', false],
      ['open.feishu.cn', 'https://feishu.cn', false],
      ['localhost', 'http://localhost:9000', true],
      // case, trailing dots, names written as URLs write them (punycode)
      ['FEISHU.CN.', 'https://Open.Feishu.CN./x', true],
      ['feishu.cn', 'https://open.feishu.cn./x', true],
      ['飞书.cn', 'https://open.飞书.cn', true],
      // ports: that port only; a URL without one has its scheme's default
      ['open.feishu.cn:8443', 'https://open.feishu.cn:8443', true],
      ['open.feishu.cn:8443', 'https://open.feishu.cn', false],
      ['feishu.cn:443', 'https://open.feishu.cn', true],
      ['feishu.cn:443', 'wss://open.feishu.cn', true],
      ['feishu.cn:443', 'http://open.feishu.cn', false],
      ['feishu.cn:80', 'ws://open.feishu.cn', true],
      ['127.0.0.5:3000', 'http://127.0.0.5:3000', true],
      ['127.0.0.5:3000', 'http://127.0.0.5:3001', false],
      ['[::1]:8443', 'https://[::1]:8443', true],
      ['[::1]:8443', 'https://[::1]', false],
      ['::1:8443', 'https://[::1]:8443', false], // an IPv6 address, not ::1 with a port
      // *: everything, also among other entries
      ['*', 'https://open.feishu.cn', true],
      ['*', 'http://127.0.0.5', true],
      ['example.com, *', 'https://api.dingtalk.com', true],
      // IPv4 and IPv6 addresses: whole addresses, any spelling of IPv6, bracketed or not
      ['127.0.0.5', 'http://127.0.0.5:8080', true],
      ['127.0.0.5', 'http://127.0.0.50', false],
      ['0.0.5', 'http://127.0.0.5', false],
      ['127.1', 'http://127.0.0.1', false], // dotted quads only, as curl reads addresses
      ['::1', 'https://[::1]:9000', true],
      ['[::1]', 'https://[::1]', true],
      ['0:0:0:0:0:0:0:1', 'wss://[::1]', true],
      ['FC00::AB', 'https://[fc00::ab]', true],
      ['::1', 'https://[::2]', false],
      ['::1', 'https://127.0.0.1', false],
      // CIDR ranges: IP-literal targets only, no DNS lookup; both edges
      ['127.0.0.0/8', 'http://127.0.0.5', true],
      ['127.0.0.0/8', 'http://127.255.255.255', true],
      ['127.0.0.0/8', 'http://126.255.255.255', false],
      ['127.0.0.0/8', 'http://128.0.0.0', false],
      ['127.0.0.0/8', 'http://localhost', false],
      ['127.0.0.0/8', 'https://[::1]', false],
      ['127.0.0.0/8', 'https://[::ffff:127.0.0.5]', true],
      ['10.0.0.0/8', 'https://10.20.30.40', true],
      ['10.1.2.3/32', 'https://10.1.2.3', true],
      ['10.1.2.3/32', 'https://10.1.2.4', false],
      ['0.0.0.0/0', 'https://8.8.8.8', true],
      ['0.0.0.0/0', 'https://open.feishu.cn', false],
      ['192.168.1.0/24:8080', 'http://192.168.1.7:8080', true],
      ['192.168.1.0/24:8080', 'http://192.168.1.7', false],
      ['fc00::/7', 'https://[fd12:3456::1]', true],
      ['fc00::/7', 'https://[fc00::]', true],
      ['fc00::/7', 'https://[fbff:ffff::1]', false],
      ['fc00::/7', 'https://[fe00::1]', false],
      ['fc00::/7', 'https://10.0.0.1', false],
      // separators: commas and whitespace, any number of either
      ['a.example,,  feishu.cn\tb.example', 'https://open.feishu.cn', true],
      ['a.example\nfeishu.cn', 'https://open.feishu.cn', true],
      [' , ', 'https://open.feishu.cn', false],
      ['', 'https://open.feishu.cn', false],
      // garbage: ignored, never everything, and the entries beside it still count
      ['.', 'https://open.feishu.cn', false],
      ['..', 'https://open.feishu.cn', false],
      ['*.', 'https://open.feishu.cn', false],
      [':443', 'https://open.feishu.cn', false],
      ['feishu.cn:', 'https://open.feishu.cn', false],
      ['feishu.cn:abc', 'https://open.feishu.cn', false],
      ['feishu.cn:99999', 'https://open.feishu.cn', false],
      ['feishu.cn:0x1bb', 'https://open.feishu.cn', false],
      ['feishu.cn/x', 'https://open.feishu.cn', false],
      ['feishu.cn?x', 'https://open.feishu.cn', false],
      ['feishu.cn#x', 'https://open.feishu.cn', false],
      ['feishu.cn\\x', 'https://open.feishu.cn', false],
      ['https://feishu.cn', 'https://open.feishu.cn', false],
      ['/8', 'http://127.0.0.1', false],
      ['10.0.0.0/', 'http://10.0.0.1', false],
      ['10.0.0.0/33', 'http://10.0.0.1', false],
      ['10.0.0.0/-1', 'http://10.0.0.1', false],
      ['10.0.0.0/8/8', 'http://10.0.0.1', false],
      ['fc00::/129', 'https://[fc00::1]', false],
      ['[::1', 'https://[::1]', false],
      ['[feishu.cn]', 'https://feishu.cn', false],
      ['[oops, 10.0.0.0/99, feishu.cn', 'https://open.feishu.cn', true],
    ];
    const got = table.map(([noProxy, target]): [string, string, boolean] => {
      env({ HTTPS_PROXY: P, HTTP_PROXY: P, NO_PROXY: noProxy });
      return [noProxy, target, proxyFor(target) === undefined];
    });
    expect(got).toEqual(table);
  });

  it('never shows the password of a proxy', () => {
    expect(maskProxy('http://ops:s3cr%40t@proxy.corp:3128')).toBe('http://ops:***@proxy.corp:3128');
    expect(maskProxy('http://proxy.corp:3128/')).toBe('http://proxy.corp:3128');
    expect(maskProxy('not a url')).toBe('(unparsable proxy URL)');
  });
});

describe('a direct request', () => {
  it('goes through our own undici agent, whichever undici set the global dispatcher', async () => {
    // The runtime's built-in undici sets the global dispatcher when anything touches fetch first.
    class Elsewhere extends Dispatcher {
      override dispatch(): boolean {
        throw new Error('the global dispatcher was used');
      }
    }
    const server = createServer((_, res) => res.end('{"ok":true}')).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const global = getGlobalDispatcher();
    setGlobalDispatcher(new Elsewhere());
    try {
      const res = await httpRequest({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, timeoutMs: 2000, endpoint: 'test' });
      expect(res).toMatchObject({ status: 200, text: '{"ok":true}' });
    } finally {
      setGlobalDispatcher(global);
      server.close();
    }
  });
});

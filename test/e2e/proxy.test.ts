import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runDoctor } from '../../src/doctor/doctor.js';
import { loadConfig } from '../../src/config.js';
import { httpRequest } from '../../src/http/request.js';
import { StreamClient } from '../../src/platforms/dingtalk/stream-client.js';
import { TOPIC_ROBOT } from 'dingtalk-stream';
import { FakeDingtalk } from '../../src/sandbox/fake-dingtalk.js';
import { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import { startTestBot, until } from '../helpers/bot.js';
import { bothEnv } from '../helpers/env.js';
import { PROXY_EGRESS, startProxy, type TestProxy } from '../helpers/proxy.js';
import { serve, type Served } from '../helpers/serve.js';
import { makeTestCa } from '../helpers/test-ca.js';

/**
 * Behind a company's egress proxy: a real forward proxy between taskbot and fakes that refuse
 * every connection not made by that proxy (it leaves from PROXY_EGRESS; taskbot from 127.0.0.1).
 */
describe('an egress proxy (HTTPS_PROXY / HTTP_PROXY / NO_PROXY) carries every connection', () => {
  let proxy: TestProxy | undefined;
  let feishu: FakeFeishu | undefined;
  let dingtalk: FakeDingtalk | undefined;
  let child: Served | undefined;
  afterEach(async () => {
    vi.unstubAllEnvs();
    child?.child.kill('SIGKILL');
    await feishu?.close();
    await dingtalk?.close();
    await proxy?.close();
    child = feishu = dingtalk = proxy = undefined;
  });

  /** Both fakes on 127.0.0.1 taking the proxy's connections only; Feishu elsewhere with `feishuAt`. */
  const fakes = async (tls?: { key: string; cert: string }, feishuAt = { host: '127.0.0.1', onlyFrom: PROXY_EGRESS }) => {
    feishu = new FakeFeishu();
    dingtalk = new FakeDingtalk();
    await feishu.listen(0, feishuAt.host, { onlyFrom: feishuAt.onlyFrom, ...(tls && { tls }) });
    await dingtalk.listen(0, '127.0.0.1', { onlyFrom: PROXY_EGRESS, ...(tls && { tls }) });
    dingtalk.im.templates.add('tpl-taskbot');
    return { feishu, dingtalk };
  };
  const port = (u: string) => new URL(u).port;

  /** A `status` command on each platform (the n-th of the test file), answered: a Feishu reply and a DingTalk card. */
  const commandOnEach = async (feishu: FakeFeishu, dingtalk: FakeDingtalk, n: number, timeoutMs?: number) => {
    const id = `c0ffee00c0ffee00c0ffee00c0ffee0${n}`;
    feishu.addTask({ id, kind: 'contact', total: 4, outcome: 'succeeded', queuedSteps: 0, runningSteps: 1 });
    const said = feishu.say(`oc_proxy${n}`, `status ${id}`);
    await feishu.gateway.push(said.event);
    await until('the Feishu reply', () => [...feishu.im.messages.values()].find((m) => m.reply_to === said.messageId), timeoutMs);
    dingtalk.addTask({ id: `copy-${n}`, kind: 'doc', total: 4, outcome: 'succeeded', queuedSteps: 0, runningSteps: 1 });
    await dingtalk.stream.push(TOPIC_ROBOT, dingtalk.robotMessage(`cidProxy${n}`, `status copy-${n}`).data);
    await until('the DingTalk card', () => dingtalk.im.cards.size === 1, timeoutMs);
  };

  it('plain HTTP and WS targets: HTTP requests forwarded, both WebSockets tunnelled; a command on each platform is answered', async () => {
    proxy = await startProxy({ user: 'ops', password: 's3cret!' });
    const { feishu, dingtalk } = await fakes();
    vi.stubEnv('HTTP_PROXY', proxy.url);
    vi.stubEnv('NO_PROXY', '');
    const { bot } = await startTestBot({ ...bothEnv(feishu, dingtalk), UPSTREAM_TIMEOUT_MS: '2000' });
    try {
      await feishu.gateway.waitForConnection();
      await dingtalk.stream.waitForConnection();
      await commandOnEach(feishu, dingtalk, 1);
    } finally {
      await bot.stop();
    }
    expect(feishu.refused + dingtalk.refused).toBe(0);
    // Forwarded requests name the full URL; the WebSockets went through CONNECT.
    expect(proxy.seen).toContainEqual(
      expect.stringMatching(new RegExp(`^POST http://127\\.0\\.0\\.1:${port(feishu.baseUrl)}/open-apis/auth/v3/tenant_access_token/internal$`)),
    );
    expect(proxy.seen).toContain(`CONNECT 127.0.0.1:${port(feishu.baseUrl)}`);
    expect(proxy.seen).toContainEqual(
      expect.stringMatching(new RegExp(`^POST http://127\\.0\\.0\\.1:${port(dingtalk.baseUrl)}/v1.0/gateway/connections/open$`)),
    );
    expect(proxy.seen).toContain(`CONNECT 127.0.0.1:${port(dingtalk.baseUrl)}`);
    expect(proxy.refused).toBe(0);
  });

  it('NO_PROXY naming a CIDR range: the platform inside it is reached directly, the other still through the proxy', async () => {
    proxy = await startProxy();
    const { seen } = proxy;
    // Feishu on 127.0.0.5 takes taskbot's own connections only (from 127.0.0.1, the kernel's source for 127/8), never the proxy's.
    const { feishu, dingtalk } = await fakes(undefined, { host: '127.0.0.5', onlyFrom: '127.0.0.1' });
    vi.stubEnv('HTTP_PROXY', proxy.url);
    vi.stubEnv('NO_PROXY', 'intranet.example, 127.0.0.4/30');
    const { bot } = await startTestBot({ ...bothEnv(feishu, dingtalk), UPSTREAM_TIMEOUT_MS: '2000' }, undefined, { connected: false });
    try {
      // Fails at once, naming the request, when Feishu's first call goes to the proxy.
      await until('Feishu connected, or asked of the proxy', () => feishu.gateway.connected > 0 || seen.some((s) => s.includes('127.0.0.5')));
      expect(seen.filter((s) => s.includes('127.0.0.5'))).toEqual([]);
      await dingtalk.stream.waitForConnection();
      await commandOnEach(feishu, dingtalk, 3);
    } finally {
      await bot.stop();
    }
    expect(feishu.refused + dingtalk.refused).toBe(0);
    expect(seen.filter((s) => s.includes('127.0.0.5'))).toEqual([]);
    expect(seen).toContainEqual(expect.stringMatching(new RegExp(`^POST http://127\\.0\\.0\\.1:${port(dingtalk.baseUrl)}/v1.0/gateway/connections/open$`)));
    expect(seen).toContain(`CONNECT 127.0.0.1:${port(dingtalk.baseUrl)}`);
  });

  it('HTTPS and WSS through CONNECT to fakes whose certificate is signed by a CA trusted only through NODE_EXTRA_CA_CERTS', async () => {
    const ca = makeTestCa();
    proxy = await startProxy({ user: 'ops', password: 'pa:ss@word' });
    const { feishu, dingtalk } = await fakes(ca);
    const env = { ...bothEnv(feishu, dingtalk), HTTPS_PROXY: proxy.url, UPSTREAM_TIMEOUT_MS: '3000' };

    // Without the CA the fakes' certificate is refused: nothing is trusted by accident.
    child = serve(env);
    await until('a refused certificate', () => /self[- ]signed|unable to (get|verify)|certificate/i.test(child!.log()), 15_000);
    child.child.kill('SIGKILL');
    expect(feishu.gateway.connected).toBe(0);
    expect(feishu.calls(/./)).toHaveLength(0);

    child = serve({ ...env, NODE_EXTRA_CA_CERTS: ca.caFile });
    await child.ready;
    await feishu.gateway.waitForConnection();
    await dingtalk.stream.waitForConnection();
    await commandOnEach(feishu, dingtalk, 2, 10_000);

    expect(feishu.refused + dingtalk.refused).toBe(0);
    expect(proxy.seen.every((s) => s.startsWith('CONNECT 127.0.0.1:'))).toBe(true);
    expect(proxy.refused).toBe(0);
    expect(child.log()).not.toContain('pa:ss@word');
    expect(child.log()).not.toContain(encodeURIComponent('pa:ss@word'));
  });

  it('a proxy that wants credentials it did not get: PROXY_REFUSED naming the proxy, never its password, for HTTP, forwarded HTTP and the WebSocket', async () => {
    proxy = await startProxy({ user: 'ops', password: 'right' });
    const { dingtalk } = await fakes();
    const wrong = proxy.url.replace(':right@', ':wrong-secret@');
    vi.stubEnv('HTTPS_PROXY', wrong);
    vi.stubEnv('HTTP_PROXY', wrong);
    const masked = wrong.replace(':wrong-secret@', ':***@');

    // An https target (CONNECT) and an http one (forwarded): both refused with 407.
    for (const url of ['https://127.0.0.1:9/never', `${dingtalk.baseUrl}/v1.0/oauth2/accessToken`]) {
      const e = await httpRequest({ url, method: 'POST', json: {}, timeoutMs: 3000, endpoint: 'probe' }).catch((x: unknown) => x);
      expect(e).toMatchObject({ code: 'PROXY_REFUSED', details: { httpStatus: 407 } });
      expect((e as Error).message).toContain(`the proxy ${masked} asks for credentials (HTTP 407)`);
      expect((e as Error).message).not.toContain('wrong-secret');
    }

    // The Stream WebSocket: its ticket fetched through the proxy with the right password, then the socket meets it with the wrong one.
    vi.stubEnv('HTTP_PROXY', proxy.url);
    const client = new StreamClient({ clientId: dingtalk.clientId, clientSecret: dingtalk.clientSecret, apiBase: dingtalk.baseUrl });
    await client.getEndpoint();
    vi.stubEnv('HTTP_PROXY', wrong);
    const e = await client._connect().catch((x: unknown) => x);
    client.stop();
    expect(e).toMatchObject({ code: 'PROXY_REFUSED' });
    expect((e as Error).message).toBe(
      `DingTalk Stream: the proxy ${masked} asks for credentials (HTTP 407): put them in the proxy URL (http://user:password@host:port)`,
    );
    expect(dingtalk.stream.connected).toBe(0);
  });

  it('doctor says which way each platform host is reached, and whether it answers that way', async () => {
    proxy = await startProxy();
    const { feishu, dingtalk } = await fakes();
    vi.stubEnv('HTTP_PROXY', proxy.url);
    const dir = mkdtempSync(join(tmpdir(), 'doctor-proxy-'));
    const config = loadConfig({ ...bothEnv(feishu, dingtalk), DATABASE_URL: `sqlite:${join(dir, 'd.db')}` });
    const network = (await runDoctor(config)).filter((c) => c.group === 'Network');
    expect(network.map((c) => c.name)).toEqual([`Feishu 127.0.0.1:${port(feishu.baseUrl)}`, `DingTalk 127.0.0.1:${port(dingtalk.baseUrl)}`]);
    for (const c of network)
      expect(c).toMatchObject({
        ok: true,
        detail: expect.stringMatching(new RegExp(`^through the proxy ${proxy.url.replace(/\./g, '\\.')}: reachable \\(HTTP \\d+\\)$`)),
      });

    // The proxy down: the same hosts, named with the proxy that failed them and what to check.
    await proxy.close();
    const down = (await runDoctor(config)).filter((c) => c.group === 'Network');
    expect(down.every((c) => !c.ok && c.detail.startsWith(`through the proxy ${proxy!.url}: UPSTREAM_UNAVAILABLE`) && c.fix!.includes('HTTPS_PROXY'))).toBe(
      true,
    );

    // Listed in NO_PROXY: direct, and the fakes refuse it (they accept the proxy only).
    vi.stubEnv('NO_PROXY', '127.0.0.1');
    const direct = (await runDoctor(config)).filter((c) => c.group === 'Network');
    expect(direct.every((c) => c.detail.startsWith('direct (no proxy applies)'))).toBe(true);
  });
});

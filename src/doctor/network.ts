import type { Config } from '../config.js';
import { asTaskbotError } from '../domain/errors.js';
import { maskProxy, proxyFor } from '../http/proxy.js';
import { httpRequest } from '../http/request.js';
import type { Check } from './check.js';

/** Each platform host taskbot calls, once however many apps call it. */
function hosts(config: Pick<Config, 'apps'>): { platform: string; url: string }[] {
  const out: { platform: string; url: string }[] = [];
  for (const a of config.apps) {
    if (a.platform === 'feishu') out.push({ platform: 'Feishu', url: a.domain });
    else out.push({ platform: 'DingTalk', url: a.apiBase }, { platform: 'DingTalk', url: a.oapiBase });
  }
  const seen = new Set<string>();
  return out.filter((h) => !seen.has(h.url) && seen.add(h.url));
}

/**
 * Which way each platform host is reached (direct, or through which proxy: HTTPS_PROXY /
 * HTTP_PROXY / NO_PROXY) and whether it answers that way: any HTTP answer proves the path.
 */
export async function networkChecks(config: Pick<Config, 'apps' | 'upstreamTimeoutMs'>): Promise<Check[]> {
  return Promise.all(
    hosts(config).map(async ({ platform, url }): Promise<Check> => {
      const proxy = proxyFor(url);
      const way = proxy ? `through the proxy ${maskProxy(proxy)}` : 'direct (no proxy applies)';
      const group = 'Network';
      const name = `${platform} ${new URL(url).host}`;
      try {
        const res = await httpRequest({ url, timeoutMs: config.upstreamTimeoutMs, endpoint: name });
        return { group, name, ok: true, detail: `${way}: reachable (HTTP ${res.status})` };
      } catch (e) {
        const err = asTaskbotError(e);
        const fix =
          err.code === 'PROXY_REFUSED'
            ? 'give the proxy what it asks (credentials in the proxy URL, or the host allowed), or list the host in NO_PROXY'
            : proxy
              ? 'check HTTPS_PROXY / HTTP_PROXY (the proxy must be reachable and allow this host) and NO_PROXY; a proxy that re-signs TLS needs its CA in NODE_EXTRA_CA_CERTS'
              : 'check the network, or set HTTPS_PROXY when this server reaches the internet through a proxy';
        return { group, name, ok: false, detail: `${way}: ${err.code}: ${err.message}`, fix };
      }
    }),
  );
}

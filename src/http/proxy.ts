import type { Agent as HttpAgent } from 'node:http';
import { ProxyAgent as RoutingAgent } from 'proxy-agent';
import { Agent, ProxyAgent, type Dispatcher } from 'undici';
import { TaskbotError } from '../domain/errors.js';
import { bypassesProxy } from './no-proxy.js';

/**
 * The egress proxy, from the environment as curl and most tools read it: HTTPS_PROXY for https
 * and wss, HTTP_PROXY for http and ws, ALL_PROXY for either; NO_PROXY to go direct (names with
 * the names under them, IP addresses, CIDR ranges, `host:port`, `*`: see bypassesProxy); lower
 * case wins over upper case. One decision for every connection taskbot opens: HTTP over undici,
 * and the WebSockets of both platforms.
 */
export function proxyFor(target: string | URL): string | undefined {
  const u = new URL(target);
  if (bypassesProxy(u, envVar('no_proxy'))) return undefined;
  // WebSockets start as HTTP requests: they follow their HTTP twin's variable.
  const scheme = u.protocol === 'wss:' ? 'https' : u.protocol === 'ws:' ? 'http' : u.protocol.slice(0, -1);
  const proxy = envVar(`${scheme}_proxy`) || envVar('all_proxy');
  if (!proxy) return undefined;
  // As proxy-from-env read it before NO_PROXY moved here: a proxy written without a scheme takes the target's.
  return proxy.includes('://') ? proxy : `${scheme}://${proxy}`;
}

/** A variable in lower case, else in upper case (an empty one counts as unset). */
function envVar(lower: string): string {
  return process.env[lower] || process.env[lower.toUpperCase()] || '';
}

/** A proxy URL fit for logs and doctor: the password never shows. */
export function maskProxy(proxy: string): string {
  try {
    const u = new URL(proxy);
    if (u.password) u.password = '***';
    return u.href.replace(/\/$/, '');
  } catch {
    return '(unparsable proxy URL)';
  }
}

const dispatchers = new Map<string, ProxyAgent>();
/*
 * Direct requests get an agent of their own rather than undici's global one: that one is whichever
 * undici set it first, and the runtime's built-in copy (behind fetch, which a dependency touches
 * while it loads) sets it before ours does: the pinned undici would parse no answer at all.
 */
let direct: Agent | undefined;

/**
 * The undici dispatcher for a request to `target`: our direct agent when it goes direct, else one
 * agent per proxy. https targets go through a CONNECT tunnel; http targets are forwarded (many
 * proxies allow CONNECT to port 443 only). Credentials in the proxy URL are sent as Basic.
 */
export function dispatcherFor(target: string | URL): Dispatcher {
  const proxy = proxyFor(target);
  if (!proxy) {
    direct ??= new Agent();
    return direct;
  }
  let d = dispatchers.get(proxy);
  if (!d) {
    d = new ProxyAgent({ uri: proxy, proxyTunnel: false });
    dispatchers.set(proxy, d);
  }
  return d;
}

let wsAgent: HttpAgent | undefined;

/** The agent for WebSockets (`ws`): picks the proxy for each connection by its URL, as above. */
export function webSocketAgent(): HttpAgent {
  wsAgent ??= new RoutingAgent({ getProxyForUrl: (url: string) => proxyFor(url) ?? '' }) as unknown as HttpAgent;
  return wsAgent;
}

/**
 * A connection the proxy refused, as a typed error naming the proxy (never its password): 407
 * (credentials missing or wrong) and 403 (its policy forbids the host) are for the admin to fix;
 * other proxy answers stay transient. Undefined when `err` is no answer from a proxy.
 */
export function proxyRefusal(err: unknown, target: string | URL, endpoint: string): TaskbotError | undefined {
  const proxy = proxyFor(target);
  if (!proxy) return undefined;
  const status = proxyStatus(err);
  if (status === undefined) return undefined;
  const host = new URL(target).host;
  const via = maskProxy(proxy);
  if (status === 407) {
    return new TaskbotError(
      'PROXY_REFUSED',
      `${endpoint}: the proxy ${via} asks for credentials (HTTP 407): put them in the proxy URL (http://user:password@host:port)`,
      { endpoint, httpStatus: 407 },
    );
  }
  if (status === 403)
    return new TaskbotError(
      'PROXY_REFUSED',
      `${endpoint}: the proxy ${via} forbids connections to ${host} (HTTP 403): allow the host in the proxy, or list it in NO_PROXY`,
      { endpoint, httpStatus: 403 },
    );
  return new TaskbotError('UPSTREAM_UNAVAILABLE', `${endpoint}: the proxy ${via} could not reach ${host} (HTTP ${status})`, {
    endpoint,
    httpStatus: status,
    ambiguous: false,
  });
}

/**
 * The status a proxy answered instead of connecting, as undici words it; `ws` words a refused
 * tunnel as the server's answer, so only its 407 (which no server sends) is surely the proxy's.
 */
function proxyStatus(err: unknown): number | undefined {
  for (let x: unknown = err; x instanceof Error; x = x.cause) {
    const m = /Proxy response \((\d{3})\)|Proxy Authentication Required \((407)\)|Unexpected server response: (407)/.exec(x.message);
    if (m) return Number(m[1] ?? m[2] ?? m[3]);
  }
  return undefined;
}

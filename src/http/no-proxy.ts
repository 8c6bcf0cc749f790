import { BlockList, isIP } from 'node:net';
import { domainToASCII } from 'node:url';

/** One NO_PROXY entry: a domain name (and every name under it), or addresses; with a port, that port only. */
interface Rule {
  port: number | undefined;
  name?: string;
  ips?: BlockList;
}

const DEFAULT_PORT: Record<string, number> = { 'http:': 80, 'ws:': 80, 'https:': 443, 'wss:': 443 };

/**
 * Whether NO_PROXY (`noProxy`, the variable's value) sends `target` direct, as curl reads it:
 * entries separated by commas or whitespace, case-insensitive, trailing dots ignored; `*` for
 * every host; a name (`feishu.cn`, `.feishu.cn` or `*.feishu.cn` alike) for itself and every
 * name under it; an IPv4 or IPv6 address (`::1` or `[::1]`) or a CIDR range (`10.0.0.0/8`,
 * `fc00::/7`) for IP-literal targets only (no DNS lookups); `host:port` or `[v6]:port` for that
 * port only, a URL without one having its scheme's default (443 for https/wss, 80 for http/ws).
 * Entries that are none of these are ignored.
 */
export function bypassesProxy(target: URL, noProxy: string): boolean {
  const rules = parsed(noProxy);
  if (rules === '*') return true;
  const port = Number(target.port) || DEFAULT_PORT[target.protocol];
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  const family = isIP(host);
  return rules.some((r) => {
    if (r.port !== undefined && r.port !== port) return false;
    // check() finds no address in a name: ranges match IP-literal targets only (no DNS lookups).
    if (r.ips) return r.ips.check(host, family === 6 ? 'ipv6' : 'ipv4');
    // An address is no name, so `127.1` (which the URL parser writes 127.0.0.1) never matches it.
    return family === 0 && (host === r.name || host.endsWith(`.${r.name}`));
  });
}

// Parsed once per value: every connection taskbot opens asks.
let last: { value: string; rules: Rule[] | '*' } | undefined;

function parsed(value: string): Rule[] | '*' {
  if (last?.value !== value) last = { value, rules: parse(value) };
  return last.rules;
}

function parse(value: string): Rule[] | '*' {
  const rules: Rule[] = [];
  for (const entry of value.split(/[\s,]+/)) {
    if (entry === '*') return '*';
    const rule = entry ? parseEntry(entry) : undefined;
    if (rule) rules.push(rule);
  }
  return rules;
}

function parseEntry(entry: string): Rule | undefined {
  const [host, portText] = splitPort(entry);
  // A port that is no decimal number never matches (`:0x1bb` is not 443).
  const port = portText === undefined ? undefined : /^\d+$/.test(portText) ? Number(portText) : NaN;
  if (host.includes('/') || isIP(host)) {
    const ips = addresses(host);
    return ips && { port, ips };
  }
  const name = domainName(host);
  return name ? { port, name } : undefined;
}

function splitPort(entry: string): [host: string, port: string | undefined] {
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(entry);
  if (bracketed) return isIP(bracketed[1]!) === 6 ? [bracketed[1]!, bracketed[2]] : ['', undefined];
  // A bare IPv6 address or range (two colons or more) never carries a port: write [::1]:8443.
  const colons = entry.split(':').length - 1;
  if (colons !== 1) return [entry, undefined];
  const i = entry.indexOf(':');
  return [entry.slice(0, i), entry.slice(i + 1)];
}

/** An address or a CIDR range; undefined when `host` is neither (`10.0.0.0/33`, `/8`). */
function addresses(host: string): BlockList | undefined {
  const [address = '', bits, extra] = host.split('/');
  const family = isIP(address);
  if (!family || extra !== undefined || (bits !== undefined && !/^\d+$/.test(bits))) return undefined;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const list = new BlockList();
  try {
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  } catch {
    return undefined; // a prefix longer than the address
  }
  return list;
}

/**
 * A name without its trailing dot and leading `.` or `*.`, written as the URL parser writes hosts
 * (lower case, punycode), so that it compares with a target's; '' when it cannot be a name.
 */
function domainName(host: string): string {
  const name = host.replace(/\.$/, '').replace(/^\*?\./, '');
  // domainToASCII ends a host at these, as a URL does: `a?b` would be `a`. (`/` went to addresses.)
  if (/[?#\\]/.test(name)) return '';
  return domainToASCII(name);
}

import { request, type Dispatcher } from 'undici';
import { TaskbotError } from '../domain/errors.js';
import { dispatcherFor, proxyRefusal } from './proxy.js';

export interface HttpRequest {
  url: string;
  method?: Dispatcher.HttpMethod;
  headers?: Record<string, string>;
  query?: Record<string, string | number | boolean | undefined>;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as multipart/form-data (an upload). */
  form?: FormData;
  timeoutMs: number;
  /** Names the call in errors and logs, e.g. "feishu drive task_check". */
  endpoint: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/**
 * One HTTP exchange over undici with a hard deadline covering headers and body, through the egress
 * proxy when the environment names one.
 * Network failures and the deadline become typed, retryable errors; the status is left to the caller.
 */
export async function httpRequest(req: HttpRequest): Promise<HttpResponse> {
  const url = new URL(req.url);
  for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
  let body: string | Buffer | undefined;
  if (req.form) {
    // Encoded by the runtime's own FormData serialiser into bytes with their boundary: a FormData
    // object handed to undici's request is read by whichever undici the dispatcher is (Node 24's
    // built-in one cannot read npm undici's), bytes are read by any.
    const encoded = new Response(req.form);
    body = Buffer.from(await encoded.arrayBuffer());
    headers['content-type'] = encoded.headers.get('content-type')!;
  }
  if (req.json !== undefined) {
    body = JSON.stringify(req.json);
    headers['content-type'] = 'application/json; charset=utf-8';
  }
  const signal = AbortSignal.timeout(req.timeoutMs);
  try {
    const res = await request(url, { method: req.method ?? 'GET', headers, body, signal, dispatcher: dispatcherFor(url) });
    const text = await res.body.text();
    return { status: res.statusCode, headers: flattenHeaders(res.headers), text };
  } catch (e) {
    if (signal.aborted) {
      throw new TaskbotError('UPSTREAM_TIMEOUT', `${req.endpoint}: no answer within ${req.timeoutMs} ms`, {
        endpoint: req.endpoint,
        ambiguous: true,
      });
    }
    const refused = proxyRefusal(e, url, req.endpoint);
    if (refused) throw refused;
    const reason = e instanceof Error ? e.message : String(e);
    throw new TaskbotError('UPSTREAM_UNAVAILABLE', `${req.endpoint}: ${reason}`, { endpoint: req.endpoint, ambiguous: !neverSent(e) }, { cause: e });
  }
}

/** Failures before a connection was made: the request surely never reached the platform. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

function neverSent(e: unknown): boolean {
  for (let x: unknown = e; x instanceof Error; x = x.cause) if (NOT_CONNECTED.has(String((x as { code?: unknown }).code))) return true;
  return false;
}

function flattenHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/** JSON body or a typed error that says what came back instead. */
export function parseJson(res: HttpResponse, endpoint: string): unknown {
  try {
    return JSON.parse(res.text);
  } catch {
    const excerpt = res.text.slice(0, 80).replace(/\s+/g, ' ');
    throw new TaskbotError('BAD_UPSTREAM_RESPONSE', `${endpoint}: answer is not JSON (HTTP ${res.status}): "${excerpt}"`, {
      endpoint,
      httpStatus: res.status,
    });
  }
}

/** Seconds from Retry-After (or a platform's reset header) as milliseconds; undefined when absent or unparsable. */
export function retryAfterMs(headers: Record<string, string>, name = 'retry-after'): number | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  const sec = Number(v);
  return Number.isFinite(sec) && sec >= 0 ? Math.round(sec * 1000) : undefined;
}

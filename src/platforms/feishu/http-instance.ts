import type { HttpInstance } from '@larksuiteoapi/node-sdk';
import { httpRequest, type HttpResponse } from '../../http/request.js';

type Opts = {
  url?: string;
  method?: string;
  headers?: Record<string, unknown>;
  params?: Record<string, unknown>;
  data?: unknown;
  paramsSerializer?: unknown;
  timeout?: number;
  $return_headers?: boolean;
};

/** What the SDK gets back when a call does not answer 2xx: the raw answer, classified by our wrapper. */
export class FeishuHttpAnswer extends Error {
  constructor(readonly response: HttpResponse) {
    super(`HTTP ${response.status}`);
  }
}

/**
 * The SDK's HTTP seam, served by undici: every call gets a deadline (the SDK's default has none),
 * and the raw status, headers and body stay available for classification.
 */
export function undiciHttpInstance(defaultTimeoutMs: number): HttpInstance {
  const run = async (o: Opts): Promise<unknown> => {
    const url = new URL(o.url ?? '');
    const query =
      typeof o.paramsSerializer === 'function'
        ? (o.paramsSerializer as (p: unknown) => string)(o.params ?? {})
        : new URLSearchParams(
            Object.entries(o.params ?? {})
              .filter(([, v]) => v !== undefined)
              .map(([k, v]): [string, string] => [k, String(v)]),
          ).toString();
    if (query) url.search = url.search ? `${url.search}&${query}` : query;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(o.headers ?? {})) if (v !== undefined) headers[k] = String(v);
    const method = (o.method ?? 'GET').toUpperCase() as 'GET';
    const form = multipart(headers, o.data);
    const res = await httpRequest({
      url: url.toString(),
      method,
      headers,
      ...(form ? { form } : { json: method === 'GET' || o.data === undefined ? undefined : o.data }),
      timeoutMs: o.timeout ?? defaultTimeoutMs,
      endpoint: `feishu ${url.pathname}`,
    });
    if (res.status < 200 || res.status >= 300) throw new FeishuHttpAnswer(res);
    const body = parseOrRaw(res);
    return o.$return_headers ? { data: body, headers: res.headers } : body;
  };
  const withBody = (method: string) => (url: string, data?: unknown, opts?: Opts) => run({ ...opts, url, method, data });
  const withoutBody = (method: string) => (url: string, opts?: Opts) => run({ ...opts, url, method });
  return {
    request: run,
    get: withoutBody('GET'),
    delete: withoutBody('DELETE'),
    head: withoutBody('HEAD'),
    options: withoutBody('OPTIONS'),
    post: withBody('POST'),
    put: withBody('PUT'),
    patch: withBody('PATCH'),
  } as HttpInstance;
}

/**
 * The SDK's uploads (im v1 files) hand over a plain object and ask for multipart/form-data (axios
 * would encode it): its fields as parts, bytes as a file named by `file_name`. The header is
 * dropped: the encoded body brings its own, with the boundary.
 */
function multipart(headers: Record<string, string>, data: unknown): FormData | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === 'content-type');
  if (!key || !headers[key]!.startsWith('multipart/form-data') || typeof data !== 'object' || data === null) return undefined;
  delete headers[key];
  const form = new FormData();
  const fields = data as Record<string, unknown>;
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    if (v instanceof Uint8Array) form.append(k, new Blob([v]), typeof fields.file_name === 'string' ? fields.file_name : k);
    else form.append(k, String(v));
  }
  return form;
}

/** A 2xx that is not JSON is handed on as a marker the wrapper turns into BAD_UPSTREAM_RESPONSE. */
function parseOrRaw(res: HttpResponse): unknown {
  try {
    return JSON.parse(res.text);
  } catch {
    throw new FeishuHttpAnswer(res);
  }
}

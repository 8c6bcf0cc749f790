import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

export interface HttpAnswer {
  status: number;
  body: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface HttpInput {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  rawBody: Buffer;
}

export type HttpHandler = (req: HttpInput) => HttpAnswer | Promise<HttpAnswer>;
/** Handlers that own the response themselves (server-sent events, static files). */
export type RawHandler = (req: IncomingMessage, res: ServerResponse, input: HttpInput) => void;

/** Webhook bodies are small; anything bigger is refused before it is read whole. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The HTTP side: webhooks, health, metrics (and the sandbox console), on one node:http server. */
export class HttpServer {
  private readonly routes = new Map<string, HttpHandler | { raw: RawHandler }>();
  private server?: Server;

  constructor(private readonly logger?: Logger) {}

  route(method: string, path: string, handler: HttpHandler): this {
    this.routes.set(`${method} ${path}`, handler);
    return this;
  }

  raw(method: string, path: string, handler: RawHandler): this {
    this.routes.set(`${method} ${path}`, { raw: handler });
    return this;
  }

  async listen(host: string, port: number): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, resolve);
    });
    const a = this.server.address() as AddressInfo;
    return `http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server!.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://taskbot');
    const handler = this.routes.get(`${req.method} ${url.pathname}`);
    if (!handler) return send(res, { status: 404, body: { error: 'not found' } });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY_BYTES) return send(res, { status: 413, body: { error: 'body too large' } });
      chunks.push(c as Buffer);
    }
    const input: HttpInput = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, rawBody: Buffer.concat(chunks) };
    try {
      if ('raw' in handler) return handler.raw(req, res, input);
      send(res, await handler(input));
    } catch (e) {
      this.logger?.error({ err: e, path: url.pathname }, 'HTTP handler failed');
      send(res, { status: 500, body: { error: 'internal error' } });
    }
  }
}

function send(res: ServerResponse, a: HttpAnswer): void {
  if (res.headersSent) return;
  const text = typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
  res.writeHead(a.status, { 'content-type': a.contentType ?? 'application/json; charset=utf-8', ...a.headers });
  res.end(text);
}

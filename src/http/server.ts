import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import { readBody, type BodyLimits } from './body.js';

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

export interface RouteOptions {
  /** The body must be JSON: declared as JSON, as plain text, or not at all (some proxies drop it); others get 415. */
  json?: boolean;
}

/** Webhook bodies are small; anything bigger is refused before it is read whole. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface ServerLimits extends BodyLimits {
  /** The whole request line and headers must arrive within this (slow-header clients). */
  headersTimeoutMs: number;
  /** The whole request, body included, must arrive within this (slow-body clients). */
  requestTimeoutMs: number;
  /** How often Node looks for requests over those limits. */
  checkEveryMs: number;
}

export const DEFAULT_LIMITS: ServerLimits = { maxBodyBytes: MAX_BODY_BYTES, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, checkEveryMs: 1_000 };

interface Route {
  handler: HttpHandler | { raw: RawHandler };
  options: RouteOptions;
}

/**
 * The HTTP side: webhooks, health, metrics (and the sandbox console), on one node:http server.
 * It faces the internet in webhook mode, so no client can crash or wedge it: bodies are read
 * with a size cap and through an error boundary, slow clients are cut off by deadlines, and a
 * handler's failure is a 500 and a log line.
 */
export class HttpServer {
  private readonly routes = new Map<string, Route>();
  private server?: Server;
  private readonly limits: ServerLimits;

  constructor(
    private readonly logger?: Logger,
    limits: Partial<ServerLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** `path` is exact, or ends with `/*` for any one last segment there (the handler reads it from `req.path`). */
  route(method: string, path: string, handler: HttpHandler, options: RouteOptions = {}): this {
    this.routes.set(`${method} ${path}`, { handler, options });
    return this;
  }

  raw(method: string, path: string, handler: RawHandler): this {
    this.routes.set(`${method} ${path}`, { handler: { raw: handler }, options: {} });
    return this;
  }

  async listen(host: string, port: number): Promise<string> {
    const l = this.limits;
    const server = createServer(
      { headersTimeout: l.headersTimeoutMs, requestTimeout: l.requestTimeoutMs, connectionsCheckingInterval: l.checkEveryMs },
      (req, res) => {
        this.handle(req, res).catch((e: unknown) => this.fail(res, e, req.url));
      },
    );
    // Malformed requests and timed-out ones: answer if the socket still takes it, then close it.
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      this.logger?.debug({ err: err.message, code: err.code }, 'HTTP client error');
      if (socket.writable && !socket.destroyed) {
        const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
        socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      }
      socket.destroy();
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => this.logger?.error({ err: e }, 'HTTP server error'));
    const a = server.address() as AddressInfo;
    return `http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`;
  }

  /**
   * Stops taking requests; those in flight (a script's POST) may finish within `graceMs`, then
   * every connection is closed.
   */
  async close(graceMs = 0): Promise<void> {
    const server = this.server;
    if (!server?.listening) return;
    const closed = new Promise<void>((r) => server.close(() => r()));
    server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Any error on these streams is handled here or by the read below, never left unheard.
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    const url = new URL(req.url ?? '/', 'http://taskbot');
    const route = this.routes.get(`${req.method} ${url.pathname}`) ?? this.routes.get(`${req.method} ${url.pathname.replace(/\/[^/]+$/, '/*')}`);
    if (!route) return send(res, { status: 404, body: { error: 'not found' } });
    if (route.options.json && !isJson(req.headers['content-type'])) {
      return send(res, { status: 415, body: { error: 'content-type must be application/json' } }, true);
    }
    const body = await readBody(req, this.limits);
    if (body.kind === 'too-large') return send(res, { status: 413, body: { error: `body over ${this.limits.maxBodyBytes} bytes` } }, true);
    if (body.kind === 'aborted') {
      this.logger?.debug({ path: url.pathname }, 'client went away while sending its body');
      res.destroy();
      return;
    }
    const input: HttpInput = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, rawBody: body.bytes };
    const { handler } = route;
    if ('raw' in handler) return handler.raw(req, res, input);
    send(res, await handler(input));
  }

  private fail(res: ServerResponse, e: unknown, path?: string): void {
    this.logger?.error({ err: e, path }, 'HTTP handler failed');
    send(res, { status: 500, body: { error: 'internal error' } });
  }
}

function isJson(contentType: string | undefined): boolean {
  if (!contentType) return true;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || type.endsWith('+json') || type === 'text/plain';
}

/** Writes an answer unless one was written or the client is gone; `close` ends the connection after it. */
function send(res: ServerResponse, a: HttpAnswer, close = false): void {
  if (res.headersSent || res.destroyed) return;
  const text = typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
  res.writeHead(a.status, { 'content-type': a.contentType ?? 'application/json; charset=utf-8', ...(close && { connection: 'close' }), ...a.headers });
  res.end(text);
}

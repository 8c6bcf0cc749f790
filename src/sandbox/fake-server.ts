import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TaskScript } from './scripted-task.js';

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: unknown;
  at: number;
}

export interface FakeResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** A fault served instead of the real answer, `times` times, to requests whose path matches. */
export interface Fault {
  path: string | RegExp;
  kind: '5xx' | '429' | 'hang' | 'malformed';
  times?: number;
  /** For 429: seconds to put in the reset header. */
  resetSec?: number;
}

export type Route = (req: FakeRequest) => FakeResponse | Promise<FakeResponse>;

/**
 * The HTTP side shared by the fake platforms: routing, a log of every request, scripted faults
 * and orderly shutdown (hanging responses included).
 */
export abstract class FakeServer {
  /** The most recent requests (bounded, so a long-running sandbox does not grow). */
  readonly requests: FakeRequest[] = [];
  /** Requests per path, for the whole life of the server. */
  readonly counts = new Map<string, number>();
  private readonly faults: (Fault & { left: number })[] = [];
  private readonly sockets = new Set<Socket>();
  /** Connections refused for coming from elsewhere than `onlyFrom`. */
  refused = 0;
  private server?: Server;
  baseUrl = '';

  protected abstract route(req: FakeRequest): Route | undefined;
  /** Adds a scripted task (the control API's POST /_fake/tasks). */
  protected abstract addScript(script: TaskScript): void;

  /** Platform settings from another process (POST /_fake/config). */
  protected configure(_settings: Record<string, unknown>): void {}

  /** Platform figures for GET /_fake/stats. */
  protected extraStats(): Record<string, unknown> {
    return {};
  }
  /** The platform's own body for a fault (each platform words its errors its own way). */
  protected abstract faultAnswer(kind: '5xx' | '429', resetSec: number): FakeResponse;

  /** WebSocket upgrades (a platform's event gateway); refused unless a fake serves one. */
  protected upgrade(_req: IncomingMessage, socket: Duplex, _head: Buffer): void {
    socket.destroy();
  }

  /** Extra latency on matching paths, as a distant upstream would have. */
  readonly latency: { path: RegExp; ms: number }[] = [];

  inject(f: Fault): void {
    this.faults.push({ ...f, left: f.times ?? 1 });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Requests whose path matches, for assertions. */
  calls(path: string | RegExp): FakeRequest[] {
    return this.requests.filter((r) => matches(path, r.path));
  }

  /**
   * Serves on `host:port`; over HTTPS (and WSS) with `tls`. `onlyFrom` refuses every connection from
   * another address: the proxy tests' way of proving that nothing reached the platform directly.
   */
  async listen(port = 0, host = '127.0.0.1', o: { tls?: { key: string; cert: string }; onlyFrom?: string } = {}): Promise<string> {
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    this.server = o.tls ? createTlsServer(o.tls, handler) : createServer(handler);
    this.server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
    this.server.on('connection', (s: Socket) => {
      if (o.onlyFrom && s.remoteAddress !== o.onlyFrom) {
        this.refused++;
        return void s.destroy();
      }
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(port, host, resolve));
    const { port: p } = this.server.address() as AddressInfo;
    this.baseUrl = `${o.tls ? 'https' : 'http'}://${host}:${p}`;
    return this.baseUrl;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const text = raw.toString('utf8');
    let body: unknown = text;
    const type = req.headers['content-type'] ?? '';
    if (type.startsWith('multipart/form-data')) {
      // Parsed as the platforms do (an upload): fields as strings, files as File with name and bytes.
      body = await new Response(raw, { headers: { 'content-type': type } }).formData().catch(() => text);
    } else {
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        /* kept as text */
      }
    }
    const r: FakeRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body, at: Date.now() };
    if (r.path.startsWith('/_fake/')) return send(res, this.control(r));
    this.requests.push(r);
    if (this.requests.length > MAX_LOGGED) this.requests.splice(0, this.requests.length - MAX_LOGGED);
    this.counts.set(r.path, (this.counts.get(r.path) ?? 0) + 1);

    const fault = this.faults.find((f) => f.left > 0 && matches(f.path, r.path));
    if (fault) {
      fault.left--;
      if (fault.kind === 'hang') return; // never answered; the socket is destroyed on close()
      if (fault.kind === 'malformed') return send(res, { status: 200, body: '{"code":0,"data":{"status":' });
      return send(res, this.faultAnswer(fault.kind, fault.resetSec ?? 1));
    }
    const handler = this.route(r);
    if (!handler) return send(res, { status: 404, body: { code: 404, msg: `no route ${r.method} ${r.path}` } });
    const delay = this.latency.find((l) => l.path.test(r.path))?.ms;
    if (delay) await new Promise((w) => setTimeout(w, delay));
    try {
      send(res, await handler(r));
    } catch (e) {
      send(res, { status: 500, body: { code: 500, msg: e instanceof Error ? e.message : String(e) } });
    }
  }

  /** Control API for other processes (benchmarks, the sandbox console): stats and new tasks. */
  private control(r: FakeRequest): FakeResponse {
    if (r.method === 'GET' && r.path === '/_fake/stats') return { status: 200, body: { requests: Object.fromEntries(this.counts), ...this.extraStats() } };
    if (r.method === 'POST' && r.path === '/_fake/config') {
      this.configure((r.body ?? {}) as Record<string, unknown>);
      return { status: 200, body: { ok: true } };
    }
    if (r.method === 'POST' && r.path === '/_fake/tasks' && Array.isArray(r.body)) {
      for (const s of r.body as TaskScript[]) this.addScript(s);
      return { status: 200, body: { added: (r.body as unknown[]).length } };
    }
    return { status: 404, body: { error: 'unknown control call' } };
  }
}

const MAX_LOGGED = 10_000;

function matches(p: string | RegExp, path: string): boolean {
  return typeof p === 'string' ? path === p : p.test(path);
}

function send(res: ServerResponse, r: FakeResponse): void {
  const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
  res.writeHead(r.status, { 'content-type': 'application/json; charset=utf-8', ...r.headers });
  res.end(text);
}

/** Bearer tokens the fake has issued, and which are still good. */
export class FakeTokens {
  private readonly valid = new Set<string>();
  /** Every token ever issued (tests look for them in logs). */
  readonly all: string[] = [];
  private n = 0;

  issue(prefix: string): string {
    const t = `${prefix}-${++this.n}-${Math.random().toString(36).slice(2, 10)}`;
    this.valid.add(t);
    this.all.push(t);
    return t;
  }

  isValid(t: string | undefined): boolean {
    return t !== undefined && this.valid.has(t);
  }

  /** Every token issued so far stops working (a token revoked mid-run). */
  revokeAll(): void {
    this.valid.clear();
  }

  get issued(): number {
    return this.n;
  }
}

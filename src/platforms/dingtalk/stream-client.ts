import { dingtalkStream, type DWClientDownStream } from './sdk.js';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { TaskbotError } from '../../domain/errors.js';
import { httpRequest, parseJson } from '../../http/request.js';
import { proxyRefusal, webSocketAgent } from '../../http/proxy.js';
import { DINGTALK_CREDENTIALS } from './access-token.js';

export interface StreamClientOptions {
  clientId: string;
  clientSecret: string;
  /** What the operator calls these credentials, for the one line that says they were refused. */
  credentials?: string;
  apiBase: string;
  logger?: Logger;
  timeoutMs?: number;
  /** Reconnect backoff: base and cap (with jitter). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** No frame (nor pong) for this long: the socket is presumed dead and replaced. */
  idleMs?: number;
}

/** The SDK's own fields we steer (private in its types, plain properties at run time). */
interface Internals {
  socket?: WebSocket;
  dw_url?: string;
  userDisconnect: boolean;
}

type Listener = (msg: DWClientDownStream) => void | Promise<void>;

/**
 * dingtalk-stream 2.1.5 with its traps removed: the gateway is opened at DINGTALK_API_BASE, the
 * SDK's fixed 1 s reconnect is off and ours backs off with jitter, the old socket is closed before
 * a new one opens, a SYSTEM `disconnect` or an idle socket leads to a reconnect, subscriptions are
 * this client's own, and nothing thrown by a listener or a bad frame escapes.
 */
export class StreamClient extends dingtalkStream.DWClient {
  /** Gateway opens attempted (for tests: no reconnect storm). */
  gatewayCalls = 0;
  /** Why the last attempt to connect failed, while not connected (for /readyz). */
  lastError?: string;
  /** Whether a connection was ever up (reconnecting, rather than connecting). */
  everConnected = false;
  private attempt = 0;
  private stopped = false;
  private retryTimer?: NodeJS.Timeout;
  private idleTimer?: NodeJS.Timeout;
  private pingTimer?: NodeJS.Timeout;

  constructor(private readonly o: StreamClientOptions) {
    // A fresh subscriptions array: the SDK's default one is shared by every client.
    super({
      clientId: o.clientId,
      clientSecret: o.clientSecret,
      ua: 'taskbot',
      keepAlive: false,
      autoReconnect: false,
      subscriptions: [],
    } as ConstructorParameters<typeof dingtalkStream.DWClient>[0]);
  }

  private get x(): Internals {
    return this as unknown as Internals;
  }

  /** Subscribes to a topic; the listener is shielded: a throw or a rejection is logged, never raised. */
  listen(topic: string, fn: Listener): this {
    return this.registerCallbackListener(topic, (msg) => {
      try {
        Promise.resolve(fn(msg)).catch((e) => this.o.logger?.error({ err: e, topic }, 'stream listener failed'));
      } catch (e) {
        this.o.logger?.error({ err: e, topic }, 'stream listener threw');
      }
    });
  }

  /** Connects, retrying with backoff; resolves on the first connection, rejects on refused credentials. */
  start(): Promise<void> {
    this.stopped = false;
    this.x.userDisconnect = false;
    return new Promise((resolve, reject) => {
      const first = async () => {
        try {
          await this.openOnce();
          resolve();
        } catch (e) {
          if (this.stopped) return;
          if (e instanceof TaskbotError && e.code === 'AUTH_FAILED') return reject(e);
          this.failed(e, 'DingTalk Stream: connect failed; retrying');
          this.retryTimer = setTimeout(() => void first(), this.nextDelay());
        }
      };
      void first();
    });
  }

  stop(): void {
    this.stopped = true;
    this.x.userDisconnect = true;
    clearTimeout(this.retryTimer);
    this.clearSocketTimers();
    this.discard(this.x.socket);
    this.connected = false;
  }

  override async connect(): Promise<void> {
    await this.start();
  }

  override disconnect(): void {
    this.stop();
  }

  override async getEndpoint(): Promise<this> {
    this.gatewayCalls++;
    const endpoint = 'dingtalk gateway connections/open';
    const res = await httpRequest({
      url: `${this.o.apiBase}/v1.0/gateway/connections/open`,
      method: 'POST',
      json: { clientId: this.o.clientId, clientSecret: this.o.clientSecret, ua: 'taskbot', subscriptions: this.config.subscriptions },
      timeoutMs: this.o.timeoutMs ?? 10_000,
      endpoint,
    });
    if (res.status === 401 || res.status === 403 || (res.status === 400 && /client|secret|auth/i.test(res.text))) {
      throw new TaskbotError('AUTH_FAILED', `${endpoint}: ${this.o.credentials ?? DINGTALK_CREDENTIALS} refused (HTTP ${res.status})`, {
        endpoint,
        httpStatus: res.status,
      });
    }
    if (res.status !== 200) throw new TaskbotError('UPSTREAM_UNAVAILABLE', `${endpoint}: HTTP ${res.status}`, { endpoint, httpStatus: res.status });
    const b = parseJson(res, endpoint) as { endpoint?: unknown; ticket?: unknown };
    if (typeof b.endpoint !== 'string' || typeof b.ticket !== 'string')
      throw new TaskbotError('BAD_UPSTREAM_RESPONSE', `${endpoint}: no endpoint or ticket`, { endpoint });
    this.x.dw_url = `${b.endpoint}?ticket=${encodeURIComponent(b.ticket)}`;
    return this;
  }

  override _connect(): Promise<void> {
    this.clearSocketTimers();
    this.discard(this.x.socket);
    const url = this.x.dw_url!;
    const ws = new WebSocket(url, { agent: webSocketAgent() });
    this.x.socket = ws;
    return new Promise((resolve, reject) => {
      let opened = false;
      ws.once('open', () => {
        opened = true;
        this.connected = true;
        this.everConnected = true;
        this.lastError = undefined;
        this.attempt = 0;
        this.touch(ws);
        this.pingTimer = setInterval(() => ws.readyState === WebSocket.OPEN && ws.ping(), this.idleMs() / 3);
        this.pingTimer.unref();
        this.o.logger?.info('DingTalk Stream connected');
        resolve();
      });
      ws.on('message', (data) => {
        this.touch(ws);
        this.onDownStream(data.toString());
      });
      ws.on('pong', () => this.touch(ws));
      ws.on('close', () => {
        if (!opened) reject(new Error('the gateway closed the socket before it opened'));
        if (this.x.socket !== ws) return; // an old socket we replaced
        this.connected = false;
        this.clearSocketTimers();
        if (opened) this.reconnect('socket closed');
      });
      ws.on('error', (e) => {
        this.o.logger?.warn({ err: e.message }, 'DingTalk Stream socket error');
        if (!opened) reject(proxyRefusal(e, url, 'DingTalk Stream') ?? e);
        ws.terminate();
      });
    });
  }

  override onDownStream(data: string): void {
    try {
      super.onDownStream(data);
    } catch (e) {
      this.o.logger?.warn({ err: e instanceof Error ? e.message : String(e), frame: data.slice(0, 200) }, 'malformed Stream frame ignored');
    }
  }

  override onSystem(msg: DWClientDownStream): void {
    super.onSystem(msg);
    if (msg.headers?.topic === 'disconnect') {
      this.o.logger?.info('DingTalk Stream: the gateway asks us to reconnect');
      this.x.socket?.terminate();
    }
  }

  override onCallback(msg: DWClientDownStream): void {
    const topic = msg.headers?.topic;
    if (!topic || this.listenerCount(topic) === 0) {
      this.o.logger?.warn({ topic }, 'Stream callback for a topic we do not handle: acknowledged');
      if (msg.headers?.messageId) this.socketCallBackResponse(msg.headers.messageId, {});
      return;
    }
    super.onCallback(msg);
  }

  private reconnect(reason: string): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    const delay = this.nextDelay();
    this.o.logger?.warn({ reason, delayMs: delay }, 'DingTalk Stream: reconnecting');
    this.retryTimer = setTimeout(async () => {
      try {
        await this.openOnce();
        this.o.logger?.info('DingTalk Stream reconnected');
      } catch (e) {
        if (this.stopped) return;
        this.failed(e, 'DingTalk Stream: reconnect failed');
        this.reconnect('reconnect failed');
      }
    }, delay);
  }

  private async openOnce(): Promise<void> {
    await this.getEndpoint();
    // stop() may have come while the gateway answered: open nothing then.
    if (this.stopped) throw new Error('stopped');
    await this._connect();
  }

  private failed(e: unknown, what: string): void {
    this.lastError = e instanceof TaskbotError ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
    this.o.logger?.warn({ err: this.lastError }, what);
  }

  /** Exponential backoff with jitter, capped (30 s by default). */
  private nextDelay(): number {
    const base = this.o.backoffBaseMs ?? 1000;
    const cap = this.o.backoffMaxMs ?? 30_000;
    const ceiling = Math.min(cap, base * 2 ** this.attempt++);
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  private idleMs(): number {
    return this.o.idleMs ?? 90_000;
  }

  private touch(ws: WebSocket): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.o.logger?.warn('DingTalk Stream: no traffic; replacing the socket');
      ws.terminate();
    }, this.idleMs());
    this.idleTimer.unref();
  }

  private clearSocketTimers(): void {
    clearTimeout(this.idleTimer);
    clearInterval(this.pingTimer);
  }

  /** Closes a socket we are done with, keeping an error sink so a late error cannot crash us. */
  private discard(ws: WebSocket | undefined): void {
    if (!ws) return;
    ws.removeAllListeners();
    ws.on('error', () => undefined);
    ws.terminate();
  }
}

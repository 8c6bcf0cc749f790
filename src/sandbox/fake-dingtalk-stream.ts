import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import { FakeSocketGateway } from './fake-gateway.js';

export interface StreamAck {
  code: number;
  data: unknown;
  ms: number;
}

/**
 * The DingTalk Stream gateway: opens connections (one-use tickets), pushes CALLBACK frames and
 * collects their ACKs, pings, asks clients to reconnect, drops sockets, and can refuse opens.
 */
export class FakeDingtalkStream extends FakeSocketGateway {
  private readonly tickets = new Set<string>();
  private readonly waiting = new Map<string, (ack: { code: number; data?: string }) => void>();
  openCalls = 0;
  /** Answer this many opens with HTTP 503. */
  refuseNext = 0;
  subscriptions: { type: string; topic: string }[] = [];
  pongs = 0;

  constructor(
    private readonly baseUrl: () => string,
    private readonly creds: () => [string, string],
  ) {
    super('Stream');
  }

  /** POST /v1.0/gateway/connections/open */
  open(body: { clientId?: string; clientSecret?: string; subscriptions?: { type: string; topic: string }[] }): { status: number; body: unknown } {
    this.openCalls++;
    const [id, secret] = this.creds();
    if (body.clientId !== id || body.clientSecret !== secret)
      return { status: 401, body: { code: 'InvalidClient', message: 'clientId or clientSecret invalid' } };
    if (this.refuseNext > 0) {
      this.refuseNext--;
      return { status: 503, body: { code: 'ServiceUnavailable', message: 'gateway busy' } };
    }
    this.subscriptions = body.subscriptions ?? [];
    const ticket = randomUUID();
    this.tickets.add(ticket);
    return { status: 200, body: { endpoint: `${this.baseUrl().replace(/^http/, 'ws')}/stream`, ticket } };
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const ticket = url.searchParams.get('ticket') ?? '';
    if (url.pathname !== '/stream' || !this.tickets.delete(ticket)) {
      socket.write('HTTP/1.1 401 Unauthorized\r\n\r\n');
      return void socket.destroy();
    }
    this.accept(req, socket, head);
  }

  /** Pushes a CALLBACK frame on one socket and resolves with its ACK. */
  push(topic: string, data: unknown, o: { messageId?: string; timeoutMs?: number; raw?: string } = {}): Promise<StreamAck> {
    const ws = [...this.sockets][0];
    if (!ws) return Promise.reject(new Error('no Stream connection'));
    const messageId = o.messageId ?? randomUUID();
    const frame =
      o.raw ??
      JSON.stringify({
        specVersion: '1.0',
        type: 'CALLBACK',
        headers: { appId: 'fake-app', connectionId: 'c1', contentType: 'application/json', messageId, time: String(Date.now()), topic },
        data: JSON.stringify(data),
      });
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(messageId);
        reject(new Error(`no ACK for ${messageId}`));
      }, o.timeoutMs ?? 5000);
      this.waiting.set(messageId, (ack) => {
        clearTimeout(timer);
        resolve({ code: ack.code, data: ack.data ? JSON.parse(ack.data) : undefined, ms: performance.now() - started });
      });
      ws.send(frame);
    });
  }

  /** Sends raw text (malformed frames). */
  sendRaw(text: string): void {
    for (const ws of this.sockets) ws.send(text);
  }

  /** SYSTEM ping; resolves when it is echoed. */
  ping(): Promise<StreamAck> {
    const messageId = randomUUID();
    const ws = [...this.sockets][0];
    if (!ws) return Promise.reject(new Error('no Stream connection'));
    const started = performance.now();
    return new Promise((resolve) => {
      this.waiting.set(messageId, (ack) => resolve({ code: ack.code, data: ack.data, ms: performance.now() - started }));
      ws.send(
        JSON.stringify({
          specVersion: '1.0',
          type: 'SYSTEM',
          headers: { messageId, topic: 'ping', contentType: 'application/json', time: String(Date.now()) },
          data: '{"opaque":"x"}',
        }),
      );
    });
  }

  /** SYSTEM disconnect, then the server closes the socket as the real gateway does. */
  disconnect(): void {
    for (const ws of this.sockets) {
      ws.send(
        JSON.stringify({
          specVersion: '1.0',
          type: 'SYSTEM',
          headers: { messageId: randomUUID(), topic: 'disconnect', contentType: 'application/json', time: String(Date.now()) },
          data: '{"reason":"rebalance"}',
        }),
      );
      setTimeout(() => ws.close(), 200);
    }
  }

  protected onMessage(_ws: WebSocket, d: Buffer): void {
    let ack: { code?: number; headers?: { messageId?: string }; data?: string };
    try {
      ack = JSON.parse(d.toString()) as typeof ack;
    } catch {
      return;
    }
    const id = ack.headers?.messageId;
    const w = id ? this.waiting.get(id) : undefined;
    if (!w) return;
    this.waiting.delete(id!);
    w({ code: ack.code ?? 0, ...(ack.data !== undefined && { data: ack.data }) });
  }
}

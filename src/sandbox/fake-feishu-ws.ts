import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { FakeSocketGateway } from './fake-gateway.js';
import { decodeFrame, encodeFrame, headerOf, type Frame } from './pbbp2.js';

export interface Ack {
  code: number;
  /** The handler's answer, decoded from the ACK's base64 `data`. */
  data?: unknown;
  ms: number;
}

/** Client settings handed out with the endpoint and in every pong (seconds). */
export const WS_CLIENT_CONFIG = { PingInterval: 120, ReconnectCount: -1, ReconnectInterval: 1, ReconnectNonce: 0 };

/**
 * The Feishu long-connection gateway: hands out the endpoint, speaks pbbp2 frames, answers pings,
 * pushes events to one open connection and collects their ACKs.
 */
export class FakeFeishuGateway extends FakeSocketGateway {
  private seq = 0;
  private readonly waiting = new Map<string, (a: { code: number; data?: string }) => void>();
  /**
   * Connections that have pinged: WSClient listens for frames only after its connect() has
   * resolved, so a frame that arrives with the upgrade's answer is dropped; its first ping comes
   * from the 'open' handler, and a push that follows it finds the listener in place.
   */
  private readonly live = new WeakSet<WebSocket>();
  endpointCalls = 0;
  /** Refuse this many endpoint requests (as a gateway under trouble would). */
  refuseNext = 0;

  constructor(private readonly baseUrl: () => string) {
    super('long');
  }

  /** POST /callback/ws/endpoint */
  endpoint(appOk: boolean): { status: number; body: unknown } {
    this.endpointCalls++;
    if (!appOk) return { status: 200, body: { code: 1000040343, msg: 'app id or secret invalid', data: {} } };
    if (this.refuseNext > 0) {
      this.refuseNext--;
      return { status: 200, body: { code: 1, msg: 'system busy', data: {} } };
    }
    const url = `${this.baseUrl().replace(/^http/, 'ws')}/callback/ws?fake=1&device_id=dev-1&service_id=7`;
    return { status: 200, body: { code: 0, msg: 'ok', data: { URL: url, ClientConfig: WS_CLIENT_CONFIG } } };
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (!req.url?.startsWith('/callback/ws')) return void socket.destroy();
    this.accept(req, socket, head);
  }

  protected override get ready(): number {
    return this.liveSockets().length;
  }

  private liveSockets(): WebSocket[] {
    return [...this.sockets].filter((ws) => this.live.has(ws));
  }

  /**
   * Pushes an event (the v2 envelope) to one open connection, as Feishu does: a random one, or the
   * `on`-th in the order they connected (replicas each receiving a press), and resolves with its ACK.
   */
  async push(event: unknown, timeoutMs = 10_000, on?: number): Promise<Ack> {
    // A client that connected this moment pings first: wait for it rather than send into the gap.
    await this.waitForConnection(2000, (on ?? 0) + 1).catch(() => undefined);
    const open = this.liveSockets();
    const ws = open[on ?? Math.floor(Math.random() * open.length)];
    if (!ws) throw new Error('no long connection');
    const id = `msg-${++this.seq}`;
    const frame: Frame = {
      SeqID: this.seq,
      LogID: this.seq,
      service: 7,
      method: 1,
      headers: [
        { key: 'type', value: 'event' },
        { key: 'message_id', value: id },
        { key: 'sum', value: '1' },
        { key: 'seq', value: '0' },
        { key: 'trace_id', value: `trace-${this.seq}` },
      ],
      payload: Buffer.from(JSON.stringify(event)),
    };
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`no ACK for ${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, (a) => {
        clearTimeout(timer);
        resolve({ code: a.code, ...(a.data && { data: JSON.parse(Buffer.from(a.data, 'base64').toString('utf8')) }), ms: performance.now() - started });
      });
      ws.send(encodeFrame(frame));
    });
  }

  protected onMessage(ws: WebSocket, buf: Buffer): void {
    let f: Frame;
    try {
      f = decodeFrame(buf);
    } catch {
      return;
    }
    if (f.method === 0 && headerOf(f, 'type') === 'ping') {
      this.live.add(ws);
      ws.send(encodeFrame({ ...f, headers: [{ key: 'type', value: 'pong' }], payload: Buffer.from(JSON.stringify(WS_CLIENT_CONFIG)) }));
      return;
    }
    const id = headerOf(f, 'message_id');
    const waiter = id ? this.waiting.get(id) : undefined;
    if (!waiter || !f.payload) return;
    this.waiting.delete(id!);
    waiter(JSON.parse(Buffer.from(f.payload).toString('utf8')) as { code: number; data?: string });
  }
}

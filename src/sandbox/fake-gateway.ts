import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

/** What both fake event gateways share: the WebSocket server and its open connections. */
export abstract class FakeSocketGateway {
  protected readonly wss = new WebSocketServer({ noServer: true });
  readonly sockets = new Set<WebSocket>();

  constructor(private readonly label: string) {
    this.wss.on('connection', (ws) => {
      this.sockets.add(ws);
      ws.on('close', () => this.sockets.delete(ws));
      ws.on('message', (d: Buffer) => this.onMessage(ws, d));
    });
  }

  protected abstract onMessage(ws: WebSocket, data: Buffer): void;

  protected accept(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit('connection', ws, req));
  }

  get connected(): number {
    return this.sockets.size;
  }

  /** Connections whose client is ready for pushes. */
  protected get ready(): number {
    return this.sockets.size;
  }

  /** Resolves once `count` clients are connected and ready for pushes; rejects after `timeoutMs`. */
  async waitForConnection(timeoutMs = 5000, count = 1): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.ready < count) {
      if (Date.now() > until) throw new Error(`${this.ready} of ${count} ${this.label} connections ready`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Drops every connection, as a network blip would; clients reconnect. */
  dropAll(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  close(): void {
    this.dropAll();
    this.wss.close();
  }
}

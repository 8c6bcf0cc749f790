import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * What the network between taskbot and a server does:
 * `pass` forwards; `refuse` resets every new connection; `reset` also resets the open ones;
 * `blackhole` accepts and swallows, forwarding nothing either way (a host that vanished without a
 * word, a network split), and connections it swallowed stay silent after it passes again.
 */
export type FaultMode = 'pass' | 'refuse' | 'reset' | 'blackhole';

interface Link {
  client: Socket;
  server?: Socket;
  dead: boolean;
}

/** A TCP proxy on loopback that breaks the connection to a real server on demand (tests only). */
export class FaultProxy {
  private readonly server: Server;
  private readonly links = new Set<Link>();
  private mode: FaultMode = 'pass';
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => this.accept(client));
  }

  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  set(mode: FaultMode): void {
    this.mode = mode;
    for (const l of this.links) {
      if (mode === 'reset') this.kill(l);
      if (mode === 'blackhole') this.swallow(l);
    }
  }

  /** Connections open now (swallowed ones included). */
  get open(): number {
    return [...this.links].filter((l) => !l.client.destroyed).length;
  }

  async close(): Promise<void> {
    for (const l of this.links) this.kill(l);
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private accept(client: Socket): void {
    const link: Link = { client, dead: false };
    this.links.add(link);
    client.on('close', () => this.links.delete(link));
    client.on('error', () => undefined);
    if (this.mode === 'refuse' || this.mode === 'reset') {
      this.kill(link);
      return;
    }
    if (this.mode === 'blackhole') {
      this.swallow(link);
      return;
    }
    const server = connect(this.target.port, this.target.host);
    link.server = server;
    server.on('error', () => this.kill(link));
    server.on('close', () => link.dead || client.destroy());
    client.on('close', () => server.destroy());
    client.on('data', (d) => link.dead || server.write(d));
    server.on('data', (d) => link.dead || client.write(d));
  }

  /** Nothing passes any more, and nobody is told. */
  private swallow(l: Link): void {
    l.dead = true;
    l.client.on('data', () => undefined);
  }

  private kill(l: Link): void {
    l.dead = true;
    if (!l.client.destroyed) l.client.resetAndDestroy();
    l.server?.destroy();
  }
}

import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createProxy } from 'proxy';

/** The address the proxy's own connections leave from: fakes that accept only it were reached through the proxy. */
export const PROXY_EGRESS = '127.0.0.2';

export interface TestProxy {
  /** http://127.0.0.1:port, with the credentials when it asks for them. */
  url: string;
  /** Every request it was asked to carry: `CONNECT host:port` or `GET http://…`. */
  seen: string[];
  /** Requests it refused with 407. */
  refused: number;
  close(): Promise<void>;
}

/**
 * A real forward proxy (the `proxy` package: CONNECT tunnels and plain HTTP forwarding) on
 * 127.0.0.1, whose connections to targets leave from PROXY_EGRESS. With `user` it wants Basic
 * credentials and answers 407 without them.
 */
export async function startProxy(o: { user?: string; password?: string } = {}): Promise<TestProxy> {
  const server = createProxy(createServer());
  server.localAddress = PROXY_EGRESS;
  // Tunnels are sockets the HTTP server no longer tracks: closed here, so close() never waits on a client.
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const out: TestProxy = {
    url: '',
    seen: [],
    refused: 0,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
  const expected = o.user ? `Basic ${Buffer.from(`${o.user}:${o.password ?? ''}`).toString('base64')}` : undefined;
  server.authenticate = (req: IncomingMessage) => {
    out.seen.push(`${req.method} ${req.url}`);
    const ok = !expected || req.headers['proxy-authorization'] === expected;
    if (!ok) out.refused++;
    return ok;
  };
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const auth = o.user ? `${encodeURIComponent(o.user)}:${encodeURIComponent(o.password ?? '')}@` : '';
  out.url = `http://${auth}127.0.0.1:${port}`;
  return out;
}

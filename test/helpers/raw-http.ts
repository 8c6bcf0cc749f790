import { connect, type Socket } from 'node:net';

export interface RawResult {
  /** Everything the server sent back. */
  text: string;
  /** Whether the server closed the connection before `waitMs` ran out. */
  closed: boolean;
  /** The HTTP status of the first answer, if any. */
  status?: number;
}

/**
 * Talks HTTP by hand over a socket: writes `parts` (with a pause between them), then either
 * resets the connection or waits up to `waitMs` for the server to answer and close.
 */
export function rawHttp(base: string, parts: (string | Buffer)[], o: { reset?: boolean; waitMs?: number; gapMs?: number } = {}): Promise<RawResult> {
  const u = new URL(base);
  return new Promise((resolve) => {
    const socket: Socket = connect(Number(u.port), u.hostname);
    let text = '';
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
      resolve({ text, closed, ...(status && { status: Number(status) }) });
    };
    const timer = setTimeout(() => finish(false), o.waitMs ?? 2000);
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.once('connect', async () => {
      for (const p of parts) {
        if (socket.destroyed) break;
        socket.write(p);
        if (o.gapMs) await new Promise((r) => setTimeout(r, o.gapMs));
      }
      if (o.reset) {
        // Give the server a moment to start reading the body, then cut the connection hard.
        setTimeout(() => {
          socket.resetAndDestroy();
          finish(true);
        }, 50);
      }
    });
  });
}

/** A POST with the headers given and a declared length; `body` may be shorter than declared. */
export function postHead(path: string, length: number, headers: Record<string, string> = {}): string {
  const all = { host: '127.0.0.1', 'content-type': 'application/json', ...headers, 'content-length': String(length) };
  const lines = [`POST ${path} HTTP/1.1`, ...Object.entries(all).map(([k, v]) => `${k}: ${v}`)];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

import type { IncomingMessage } from 'node:http';

export interface BodyLimits {
  maxBodyBytes: number;
}

export type Body = { kind: 'ok'; bytes: Buffer } | { kind: 'too-large' } | { kind: 'aborted' };

/**
 * Reads a request body without ever rejecting: a declared length over the cap is refused before
 * a byte is read, a body that grows past it stops being read, and a client that resets or
 * aborts mid-body is reported as such (the socket is gone; there is nobody to answer).
 */
export function readBody(req: IncomingMessage, limits: BodyLimits): Promise<Body> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limits.maxBodyBytes) return Promise.resolve({ kind: 'too-large' });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (b: Body) => {
      req.off('data', onData);
      resolve(b);
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limits.maxBodyBytes) {
        req.pause();
        return done({ kind: 'too-large' });
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.once('end', () => done({ kind: 'ok', bytes: Buffer.concat(chunks) }));
    req.once('aborted', () => done({ kind: 'aborted' }));
    req.once('error', () => done({ kind: 'aborted' }));
    req.once('close', () => {
      if (!req.complete) done({ kind: 'aborted' });
    });
  });
}

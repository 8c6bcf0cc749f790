import { systemClock, type Clock } from '../domain/clock.js';

export interface IssuedToken {
  token: string;
  expiresInSec: number;
}

/**
 * Where an app's access token comes from. A self-built app asks with its own credentials (the API
 * clients' default); a marketplace or suite app (not supported yet) would derive one per tenant
 * from the ticket the platform pushes, and hand the client that source instead.
 */
export type TokenSource = () => Promise<IssuedToken>;

/**
 * An access token shared by every caller: one fetch in flight at a time (concurrent first
 * calls wait for the same fetch), refreshed `refreshBeforeMs` before it expires, and evicted
 * when the platform says it is invalid.
 */
export class TokenCache {
  private current?: { token: string; refreshAt: number };
  private inflight?: Promise<string>;

  constructor(
    private readonly fetchToken: () => Promise<IssuedToken>,
    private readonly refreshBeforeMs: number,
    private readonly clock: Clock = systemClock,
  ) {}

  get(): Promise<string> {
    if (this.current && this.clock.mono() < this.current.refreshAt) return Promise.resolve(this.current.token);
    if (!this.inflight) {
      this.inflight = this.fetchToken()
        .then(({ token, expiresInSec }) => {
          this.current = { token, refreshAt: this.clock.mono() + expiresInSec * 1000 - this.refreshBeforeMs };
          return token;
        })
        .finally(() => {
          this.inflight = undefined;
        });
    }
    return this.inflight;
  }

  /** Drop `token` if it is still the current one (a stale failure must not evict a fresh token). */
  invalidate(token: string): void {
    if (this.current?.token === token) this.current = undefined;
  }
}

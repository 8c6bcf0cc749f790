import { asTaskbotError } from '../domain/errors.js';
import { withRetry, type RetryOptions } from './retry.js';
import type { TokenCache } from './token-cache.js';

/**
 * Runs `fn` with the current access token under the retry policy. An answer flagged
 * `tokenInvalid` evicts that token and is tried once more with a fresh one (not counted
 * against the retry budget); a second invalid-token answer is final.
 */
export function callWithToken<T>(tokens: TokenCache, fn: (token: string) => Promise<T>, retry: RetryOptions = {}, api = 'unnamed'): Promise<T> {
  let refreshed = false;
  let calls = 0;
  return withRetry(async () => {
    for (;;) {
      const token = await tokens.get();
      const retried = calls++ > 0;
      try {
        const r = await fn(token);
        retry.onCall?.(api, 'ok', retried);
        return r;
      } catch (e) {
        const err = asTaskbotError(e);
        retry.onCall?.(api, err.code, retried);
        if (!err.details.tokenInvalid || refreshed) throw err;
        refreshed = true;
        tokens.invalidate(token);
      }
    }
  }, retry);
}

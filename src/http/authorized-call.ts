import { asTaskbotError } from '../domain/errors.js';
import { withRetry, type RetryOptions } from './retry.js';
import type { TokenCache } from './token-cache.js';

/**
 * Runs `fn` with the current access token under the retry policy. An answer flagged
 * `tokenInvalid` evicts that token and is tried once more with a fresh one (not counted
 * against the retry budget); a second invalid-token answer is final.
 */
export function callWithToken<T>(
  tokens: TokenCache,
  fn: (token: string) => Promise<T>,
  retry: RetryOptions = {},
): Promise<T> {
  let refreshed = false;
  return withRetry(async () => {
    for (;;) {
      const token = await tokens.get();
      try {
        return await fn(token);
      } catch (e) {
        const err = asTaskbotError(e);
        if (!err.details.tokenInvalid || refreshed) throw err;
        refreshed = true;
        tokens.invalidate(token);
      }
    }
  }, retry);
}

import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import { needsAdmin, type TaskbotError } from '../domain/errors.js';
import type { CardRow, Store } from '../store/store.js';
import type { AdminAlerts } from './admin-alerts.js';
import { cardRetryDelay, MAX_CARD_FAILURES } from './backoff.js';

/** What a card's writes need to record their failures. */
export interface WriteDeps {
  store: Store;
  clock: Clock;
  /** Where writes that wait for the admin are told. */
  alerts: AdminAlerts;
  logger?: Logger;
}

/**
 * A card's write (an update, a mention) failed: when it is worth trying again, records when (and
 * what waits for the admin) and says so. `content`: the write carried content that may fare
 * better once it changed (a card update), so other permanent refusals are tried again too.
 */
export async function retryLater(d: WriteDeps, c: CardRow, er: TaskbotError, later: (at: number) => void, content = false): Promise<boolean> {
  const failures = c.fail_count + 1;
  const admin = needsAdmin(er);
  if (!admin && ((er.persistence === 'permanent' && !content) || failures >= MAX_CARD_FAILURES)) return false;
  const now = d.clock.now();
  const at = now + Math.max(cardRetryDelay(failures), er.details.retryAfterMs ?? 0);
  const problem = admin ? d.alerts.blocked(c.app, er, now) : null;
  d.logger?.[admin ? 'info' : 'warn'](
    { code: er.code, err: er.toJSON(), card: c.card_key, failures },
    admin ? 'card waits for the admin; will retry' : 'card write failed; will retry',
  );
  await d.store.cards.recordFailure(c.card_key, failures, at, problem);
  later(at);
  return true;
}

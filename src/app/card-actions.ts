import type { Logger } from 'pino';
import type { CardActionOutcome, CardPress } from '../domain/inbound.js';
import type { Clock } from '../domain/clock.js';
import { asTaskbotError } from '../domain/errors.js';
import { cardTexts } from '../i18n/card-texts.js';
import type { Locale } from '../i18n/messages.js';
import type { WatchEngine } from '../watch/engine.js';
import { chatAllowed } from '../commands/context.js';
import type { InboundDeps } from './inbound.js';

export interface CardActionDeps {
  engine: WatchEngine;
  locale: Locale;
  clock: Clock;
  logger?: Logger;
  /** ALLOWED_CHAT_IDS, the same check commands get. */
  allowed: (chatId: string) => boolean;
}

/** The deps of a button press, from the platform's event deps. */
export function cardActionDeps(d: InboundDeps): CardActionDeps {
  const { engine, settings } = d.commands;
  return { engine, locale: settings.locale, clock: d.clock, ...(d.logger && { logger: d.logger }), allowed: (chat) => chatAllowed(settings, chat) };
}

const TIMEOUT: unique symbol = Symbol('timeout');

/**
 * A button press, answered within `budgetMs`: Refresh answers with the fresh card when the poll
 * finishes in time, otherwise with a toast now and an update through the messenger later;
 * Stop answers with the stopped card. Never throws.
 */
export async function cardAction(input: CardPress, deps: CardActionDeps, budgetMs: number): Promise<CardActionOutcome> {
  const t = cardTexts(deps.locale);
  const deadline = <T>(p: Promise<T>): Promise<T | typeof TIMEOUT> => Promise.race([p, deps.clock.sleep(budgetMs).then((): typeof TIMEOUT => TIMEOUT)]);
  try {
    const chat = input.chatId ?? (await deps.engine.cardChat(input.cardKey));
    if (chat && !deps.allowed(chat)) return { kind: 'toast', toast: t.toastNotAllowed, level: 'error' };
    if (input.action === 'stop') {
      const r = await deadline(deps.engine.stopCard(input.cardKey, { inline: true }));
      if (r === TIMEOUT) return { kind: 'toast', toast: t.toastFailed, level: 'error' };
      return r ? { kind: 'card', card: r, toast: t.toastStopped } : { kind: 'toast', toast: t.toastUnknownCard, level: 'info' };
    }
    const work = deps.engine.refresh(input.cardKey, { inline: true });
    const r = await deadline(work);
    if (r === TIMEOUT) {
      // Too slow for the answer: deliver the fresh card as an update once it is there.
      work
        .then((late) => (late.status === 'fresh' && late.card ? deps.engine.deliver(input.cardKey, late.card) : undefined))
        .catch((e) => deps.logger?.warn({ err: asTaskbotError(e).toJSON(), card: input.cardKey }, 'late refresh failed'));
      return { kind: 'toast', toast: t.toastRefreshing, level: 'info' };
    }
    if (r.status === 'unknown') return { kind: 'toast', toast: t.toastUnknownCard, level: 'info' };
    if (r.status === 'busy' || !r.card) return { kind: 'toast', toast: t.toastRefreshing, level: 'info' };
    return { kind: 'card', card: r.card, toast: t.toastRefreshed };
  } catch (e) {
    deps.logger?.warn({ err: asTaskbotError(e).toJSON(), card: input.cardKey }, 'card action failed');
    return { kind: 'toast', toast: t.toastFailed, level: 'error' };
  }
}

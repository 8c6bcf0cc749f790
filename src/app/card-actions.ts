import type { Logger } from 'pino';
import type { CardActionOutcome, CardPress } from '../domain/inbound.js';
import type { Clock } from '../domain/clock.js';
import { asTaskbotError } from '../domain/errors.js';
import { isPlatformUserId } from '../domain/user-id.js';
import { cardTexts } from '../i18n/card-texts.js';
import { fill, messages, type Locale } from '../i18n/messages.js';
import type { NotifyResult, RefreshResult, StopResult, WatchEngine } from '../watch/engine.js';
import { chatAllowed } from '../commands/context.js';
import { checkStop, type StoppableCard } from '../commands/stop-permission.js';
import { startExport, type ExportStart } from '../commands/export.js';
import type { StopVerdict } from '../domain/stop-rule.js';
import type { InboundDeps } from './inbound.js';

export interface CardActionDeps {
  engine: WatchEngine;
  locale: Locale;
  clock: Clock;
  logger?: Logger;
  /** ALLOWED_CHAT_IDS, the same check commands get. */
  allowed: (chatId: string) => boolean;
  /** Whether this person may stop this card (the chat's rule, admins, the group's roles). */
  mayStop: (card: StoppableCard, userId: string | undefined) => Promise<StopVerdict>;
  /** Export failed items: starts the file (posted under the card later); `key` names the press. */
  exportFailed: (cardKey: string, key: string) => Promise<ExportStart>;
}

/** The deps of a button press, from the platform's event deps. */
export function cardActionDeps(d: InboundDeps): CardActionDeps {
  const { engine, settings } = d.commands;
  return {
    engine,
    locale: settings.locale,
    clock: d.clock,
    ...(d.logger && { logger: d.logger }),
    allowed: (chat) => chatAllowed(settings, chat),
    mayStop: (card, userId) => checkStop(d.commands, card, userId),
    exportFailed: (cardKey, key) => startExport({ ...d.commands, store: d.store }, cardKey, key),
  };
}

const TIMEOUT: unique symbol = Symbol('timeout');

/**
 * A button press, answered within `budgetMs`: with the fresh (Refresh) or stopped (Stop) card when
 * it is ready in time, otherwise with a toast now and an update through the messenger later.
 * Never throws.
 */
export async function cardAction(input: CardPress, deps: CardActionDeps, budgetMs: number): Promise<CardActionOutcome> {
  let locale = deps.locale;
  let t = cardTexts(locale);
  const deadline = <T>(p: Promise<T>): Promise<T | typeof TIMEOUT> => Promise.race([p, deps.clock.sleep(budgetMs).then((): typeof TIMEOUT => TIMEOUT)]);
  try {
    const card = await deps.engine.cardInfo(input.cardKey);
    if (card) t = cardTexts((locale = card.locale)); // the chat's language, as its card was drawn in
    const chat = input.chatId ?? card?.chatId;
    if (chat && !deps.allowed(chat)) return { kind: 'toast', toast: t.toastNotAllowed, level: 'error' };
    // Only an id the platform gave us, of the shape it hands out, is ever mentioned.
    if (input.action === 'notify' && !(input.userId && isPlatformUserId(input.userId))) return { kind: 'toast', toast: t.toastFailed, level: 'error' };
    if (input.action === 'export') {
      const r = await deps.exportFailed(input.cardKey, input.deliveryKey ?? `${input.cardKey}:${deps.clock.now()}`);
      const toast = { started: t.toastExporting, busy: t.toastExportBusy, unknown: t.toastUnknownCard, unsupported: t.toastExportUnsupported }[r];
      return { kind: 'toast', toast, level: r === 'started' || r === 'busy' ? 'info' : 'error' };
    }
    if (input.action === 'stop' && card) {
      const v = await deps.mayStop(card, input.userId);
      if (!v.ok) return { kind: 'toast', toast: v.who === 'asker' ? t.toastStopAsker : t.toastStopAdmins, level: 'error' };
    }
    const work: Promise<RefreshResult | StopResult | NotifyResult> =
      input.action === 'stop'
        ? deps.engine.stopCard(input.cardKey, { inline: true })
        : input.action === 'notify'
          ? deps.engine.toggleNotify(input.cardKey, input.userId!, { inline: true })
          : deps.engine.refresh(input.cardKey, { inline: true });
    const r = await deadline(work);
    if (r === TIMEOUT) {
      // Too slow for the answer: the card gets the fresh rendering as an update once it is there.
      work
        .then((late) => ('card' in late && late.card ? deps.engine.inlineLost(input.cardKey, late.card) : undefined))
        .catch((e) => deps.logger?.warn({ err: asTaskbotError(e).toJSON(), card: input.cardKey }, 'late card action failed'));
      return { kind: 'toast', toast: t.toastRefreshing, level: 'info' };
    }
    // A card the platform will not let taskbot update says so, whatever else happened.
    if ('blocked' in r && r.blocked) {
      const toast = fill(t.toastBlocked, { problem: r.blocked });
      return 'card' in r && r.card ? { kind: 'card', card: r.card, toast } : { kind: 'toast', toast, level: 'error' };
    }
    switch (r.status) {
      case 'unknown':
        return { kind: 'toast', toast: t.toastUnknownCard, level: 'info' };
      case 'ended':
        return { kind: 'toast', toast: t.toastEnded, level: 'info' };
      case 'busy':
        return { kind: 'toast', toast: t.toastRefreshing, level: 'info' };
      case 'stopped':
        return r.card ? { kind: 'card', card: r.card, toast: t.toastStopped } : { kind: 'toast', toast: t.toastStopped, level: 'info' };
      case 'fresh':
        return r.card ? { kind: 'card', card: r.card, toast: t.toastRefreshed } : { kind: 'toast', toast: t.toastRefreshing, level: 'info' };
      case 'on':
      case 'off': {
        const toast = r.status === 'on' ? t.toastNotifyOn : t.toastNotifyOff;
        return r.card ? { kind: 'card', card: r.card, toast } : { kind: 'toast', toast, level: 'info' };
      }
      case 'inactive':
        return { kind: 'toast', toast: t.toastNotifyInactive, level: 'info' };
    }
  } catch (e) {
    // The store failing, or a bug: the press is told so, with the id the log line carries.
    const err = asTaskbotError(e);
    deps.logger?.warn({ err: err.toJSON(), card: input.cardKey }, 'card action failed');
    return { kind: 'toast', toast: `${t.toastFailed} (${messages(locale).words.errorId}: ${err.details.errorId ?? err.code})`, level: 'error' };
  }
}

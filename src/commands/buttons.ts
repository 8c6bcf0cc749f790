import type { Logger } from 'pino';
import type { CardActionOutcome, CardPress } from '../domain/inbound-port.js';
import type { Clock } from '../domain/clock.js';
import { asTaskbotError } from '../domain/errors.js';
import { isPlatformUserId } from '../domain/user-id.js';
import { cardTexts } from '../i18n/card-texts.js';
import { errorLine, fill } from '../i18n/messages.js';
import type { Locale } from '../domain/locale.js';
import type { CardOperations, NotifyResult, RefreshResult, StopResult } from '../watch/card-operations.js';
import type { CardStore } from '../store/cards.js';
import { person, refusalText, type RightsQuestion } from './rights.js';
import type { ExportStart } from './export.js';
import type { Verdict } from '../domain/policy.js';
import type { PressLimit } from './deps.js';

export interface CardActionDeps {
  /** What a press does to its card. */
  watch: Pick<CardOperations, 'stopCard' | 'toggleNotify' | 'refresh' | 'inlineLost'>;
  cards: Pick<CardStore, 'get'>;
  locale: Locale;
  clock: Clock;
  logger?: Logger;
  /** The policy (commands/rights.ts): who may do what, here. */
  may: (q: RightsQuestion) => Promise<Verdict>;
  /** Per-person and per-chat press limits: a flood gets a toast, never an upstream read. */
  presses: PressLimit;
  /** Export failed items: starts the file (posted under the card later); `key` names the press. */
  exportFailed: (cardKey: string, key: string) => Promise<ExportStart>;
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
    const row = await deps.cards.get(input.cardKey);
    if (!row) return { kind: 'toast', toast: t.toastUnknownCard, level: 'info' };
    const card = { app: row.app, platform: row.platform, chatId: row.chat_id, locale: row.locale, askedBy: row.asked_by, status: row.status };
    locale = card.locale; // the chat's language, as its card was drawn in
    t = cardTexts(locale);
    // The card acts in its own chat only: a press the platform says came from elsewhere is not its.
    if (input.chatId !== undefined && input.chatId !== card.chatId) return { kind: 'toast', toast: t.toastOtherChat, level: 'error' };
    if (deps.presses.check(card.app, card.chatId, input.userId ?? '', deps.clock.mono()) !== 'ok')
      return { kind: 'toast', toast: t.toastSlowDown, level: 'error' };
    const ask = (action: RightsQuestion['action']) =>
      deps.may({ action, actor: person(input.userId), chat: { app: card.app, platform: card.platform, chatId: card.chatId }, card });
    const refused = (v: Verdict): CardActionOutcome | undefined =>
      v.ok ? undefined : { kind: 'toast', toast: refusalText(locale, v.refusal, card.chatId), level: 'error' };
    const notRead = refused(await ask('read'));
    if (notRead) return notRead;
    // Only an id the platform gave us, of the shape it hands out, is ever mentioned.
    if (input.action === 'notify' && !(input.userId && isPlatformUserId(input.userId))) return { kind: 'toast', toast: t.toastFailed, level: 'error' };
    if (input.action === 'export') {
      const r = await deps.exportFailed(input.cardKey, input.deliveryKey ?? `${input.cardKey}:${deps.clock.now()}`);
      const toast = {
        started: t.toastExporting,
        busy: t.toastExportBusy,
        recent: t.toastExportRecent,
        unknown: t.toastUnknownCard,
        unsupported: t.toastExportUnsupported,
      }[r];
      return { kind: 'toast', toast, level: r === 'started' || r === 'busy' || r === 'recent' ? 'info' : 'error' };
    }
    if (input.action === 'stop') {
      const no = refused(await ask('stop'));
      if (no) return no;
    }
    // Refresh resumes a stopped card only for someone who may stop it; anyone else sees its state once.
    const mayResume = async () => (await ask('resume')).ok;
    const work: Promise<RefreshResult | StopResult | NotifyResult> =
      input.action === 'stop'
        ? deps.watch.stopCard(input.cardKey, { inline: true })
        : input.action === 'notify'
          ? deps.watch.toggleNotify(input.cardKey, input.userId!, { inline: true })
          : deps.watch.refresh(input.cardKey, { inline: true, mayResume });
    const r = await deadline(work);
    if (r === TIMEOUT) {
      // Too slow for the answer: the card gets the fresh rendering as an update once it is there.
      work
        .then((late) => ('card' in late && late.card ? deps.watch.inlineLost(input.cardKey, late.card) : undefined))
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
        return r.card
          ? { kind: 'card', card: r.card, toast: r.peeked ? t.toastPeek : t.toastRefreshed }
          : { kind: 'toast', toast: t.toastRefreshing, level: 'info' };
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
    return { kind: 'toast', toast: `${t.toastFailed}: ${errorLine(err, locale)}`, level: 'error' };
  }
}

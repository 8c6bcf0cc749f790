import type { Logger } from 'pino';
import { handleCommand } from '../commands/router.js';
import { parseCommand } from '../commands/parse.js';
import type { CommandDeps } from '../commands/context.js';
import type { InboundCommand, InboundPort } from '../domain/inbound.js';
import { cardAction, cardActionDeps } from './card-actions.js';
import type { Clock } from '../domain/clock.js';
import type { Telemetry } from '../domain/telemetry.js';
import { asTaskbotError } from '../domain/errors.js';
import type { Store } from '../store/store.js';
import { noticeCard } from '../cards/notices.js';
import { cardTexts } from '../i18n/card-texts.js';
import type { FloodGuard } from './flood.js';
import type { WorkQueue } from './work-queue.js';

/** Platforms redeliver for hours at most; a key is remembered for three days. */
export const DEDUPE_TTL_MS = 3 * 86_400_000;

export interface InboundDeps {
  store: Store;
  clock: Clock;
  commands: CommandDeps;
  logger?: Logger;
  telemetry?: Pick<Telemetry, 'event' | 'command'>;
}

/**
 * Claims every id of an inbound delivery in the store (atomic insert-if-absent) before any work;
 * true when this process owns it, false for a duplicate some process has seen already.
 */
export async function claimDelivery(store: Store, keys: string[], now: number): Promise<boolean> {
  for (const k of keys) if (!(await store.dedupe.claim(k, now, DEDUPE_TTL_MS))) return false;
  return true;
}

export interface AdmitDeps extends InboundDeps {
  queue: WorkQueue;
  flood: FloodGuard;
}

/**
 * Takes one command for background work, called from the event handler (which returns at once):
 * within the flood limits it is queued; the first command over a limit is answered with a
 * polite "slow down"; the rest are dropped.
 */
export function admit(cmd: InboundCommand, keys: string[], deps: AdmitDeps): void {
  const verdict = deps.flood.check(cmd.platform, cmd.chatId, cmd.userId, deps.clock.mono());
  if (verdict === 'drop') {
    deps.telemetry?.command('any', 'dropped');
    deps.logger?.debug({ chat: cmd.chatId, user: cmd.userId }, 'over the command limit: dropped');
    return;
  }
  if (!deps.queue.push(() => runDelivery(keys, cmd, deps, verdict === 'notify'))) {
    deps.telemetry?.command('any', 'queue_full');
    deps.logger?.warn({ chat: cmd.chatId }, 'inbound queue full: told the person to try again in a minute');
    void answerOverload(keys, cmd, deps);
  }
}

/** Overload answers in flight at once: beyond this the process is in trouble and they are only logged. */
const MAX_OVERLOAD_ANSWERS = 8;
let overloadAnswers = 0;

/** "Busy, try again in a minute", sent outside the full queue (bounded), so a command is never met with silence. */
async function answerOverload(keys: string[], cmd: InboundCommand, deps: InboundDeps): Promise<void> {
  if (overloadAnswers >= MAX_OVERLOAD_ANSWERS) return void deps.logger?.error({ chat: cmd.chatId }, 'overloaded: a command could not even be told to wait');
  overloadAnswers++;
  try {
    if (!(await claimDelivery(deps.store, keys, deps.clock.now()))) return;
    const { messengers, settings } = deps.commands;
    await messengers[cmd.platform]?.send({ platform: cmd.platform, chatId: cmd.chatId }, noticeCard(settings.locale, cardTexts(settings.locale).queueFull, { color: 'orange' }), cmd.reply);
  } catch (e) {
    deps.logger?.error({ err: asTaskbotError(e).toJSON(), chat: cmd.chatId }, 'could not send the busy answer');
  } finally {
    overloadAnswers--;
  }
}

/** Runs one command delivery: dedupe, then answer. Failures are logged with their code; nothing escapes. */
export async function runDelivery(keys: string[], cmd: InboundCommand, deps: InboundDeps, busy = false): Promise<void> {
  if (!(await claimDelivery(deps.store, keys, deps.clock.now()))) {
    deps.logger?.info({ keys }, 'duplicate delivery ignored');
    return;
  }
  try {
    if (busy) {
      deps.telemetry?.command('any', 'busy');
      deps.logger?.warn({ chat: cmd.chatId, user: cmd.userId }, 'over the command limit: told to slow down');
      const { messengers, settings } = deps.commands;
      await messengers[cmd.platform]?.send({ platform: cmd.platform, chatId: cmd.chatId }, noticeCard(settings.locale, cardTexts(settings.locale).busy, { color: 'orange' }), cmd.reply);
      return;
    }
    await handleCommand(cmd, deps.commands);
  } catch (e) {
    // The answer could not be sent, retries included: say which command in which chat went unanswered.
    const err = asTaskbotError(e);
    const parsed = parseCommand(cmd.text);
    deps.logger?.error({ code: err.code, err: err.toJSON(), platform: cmd.platform, chat: cmd.chatId, command: parsed.command }, 'could not answer a command');
  }
}

/** The app side of the receivers: what a platform's events turn into. */
export function inboundPort(deps: AdmitDeps): InboundPort {
  const actions = cardActionDeps(deps);
  return {
    locale: deps.commands.settings.locale,
    command: (cmd, keys) => admit(cmd, keys, deps),
    event: (platform, type) => deps.telemetry?.event(platform, type),
    async cardAction(press, budgetMs) {
      if (press.deliveryKey && !(await claimDelivery(deps.store, [press.deliveryKey], deps.clock.now()).catch(() => true))) {
        return { kind: 'duplicate', toast: cardTexts(actions.locale).toastRefreshing };
      }
      return cardAction(press, actions, budgetMs);
    },
  };
}

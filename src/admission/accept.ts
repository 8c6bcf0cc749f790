import type { Logger } from 'pino';
import { handleCommand } from '../commands/router.js';
import { parseCommand } from '../commands/parse.js';
import type { CommandDeps } from '../commands/deps.js';
import type { InboundCommand, InboundPort, PlatformCommand } from '../domain/inbound-port.js';
import type { Platform } from '../domain/task.js';
import { cardAction, type CardActionDeps } from '../commands/buttons.js';
import { startExport } from '../commands/export.js';
import { may } from '../commands/rights.js';
import type { Clock } from '../domain/clock.js';
import type { Telemetry } from '../domain/telemetry.js';
import { asTaskbotError } from '../domain/errors.js';
import { withDeadline } from '../domain/deadline.js';
import type { CardModel } from '../domain/card.js';
import { appKey, messengerOf } from '../domain/chat.js';
import type { Store } from '../store/store.js';
import { errorCard, noticeCard } from '../cards/notices.js';
import { cardTexts } from '../i18n/card-texts.js';
import { errorLine } from '../i18n/messages.js';
import type { FloodGuard } from './flood.js';
import type { WorkQueue } from './work-queue.js';
import { DEDUPE_TTL_MS, type Inbox, type OwedCommand } from './inbox.js';
import { LeaseLost } from '../domain/lease-keeper.js';
import { trackForm } from '../commands/track-form.js';

/** How long an event's acknowledgement waits for its command to be kept: the platforms allow 2–3 s. */
const KEEP_DEADLINE_MS = 1500;
/** A command that three holders took and none answered (each died on it) is answered with an apology. */
const MAX_ATTEMPTS = 3;

export interface InboundDeps {
  store: Store;
  clock: Clock;
  commands: CommandDeps;
  logger?: Logger;
  telemetry?: Pick<Telemetry, 'event' | 'command'>;
}

export interface AdmitDeps extends InboundDeps {
  queue: WorkQueue;
  /** Per-person and per-chat command limits. */
  flood: FloodGuard;
  /** Per-person and per-chat limits of button presses and form submissions. */
  presses: FloodGuard;
  inbox: Inbox;
}

/**
 * Takes one command, called by the platform's event handler, which acknowledges the event once
 * this resolves: within the flood limits the command is kept in the store first (durable before
 * acknowledged), then queued. The first command over a limit is answered with a polite "slow
 * down"; the rest are dropped. When the store fails, the command is answered with an apology
 * straight away: it could not be kept, and an answer sent twice beats none.
 */
export async function accept(cmd: InboundCommand, keys: string[], deps: AdmitDeps): Promise<void> {
  const verdict = deps.flood.check(cmd.app, cmd.chatId, cmd.userId, deps.clock.mono());
  if (verdict === 'drop') {
    deps.telemetry?.command('any', 'dropped');
    deps.logger?.debug({ chat: cmd.chatId, user: cmd.userId }, 'over the command limit: dropped');
    return;
  }
  const busy = verdict === 'notify';
  let key: string | undefined;
  const taking = deps.inbox.take(cmd, keys, busy);
  try {
    key = await withDeadline(taking, KEEP_DEADLINE_MS);
  } catch (e) {
    // Kept after all, too late to be worked: the apology below is its answer.
    taking.then((k) => (k ? deps.inbox.done(k) : undefined)).catch(() => undefined);
    const err = asTaskbotError(e);
    deps.telemetry?.command('any', 'store_failed');
    deps.logger?.error(
      { code: err.code, err: err.toJSON(), chat: cmd.chatId, command: parseCommand(cmd.text).command },
      'the store could not keep a command; answering it with an apology',
    );
    void answerOutside(cmd, errorCard(err, deps.commands.settings.of(cmd.app).locale), deps, 'store_failed');
    return;
  }
  if (!key) return void deps.logger?.info({ keys }, 'duplicate delivery ignored');
  work({ key, cmd, busy, attempts: 1 }, deps);
}

/** Queues a kept command for its answer; over the queue's bound, it is told to try again in a minute. */
export function work(c: OwedCommand, deps: AdmitDeps): void {
  if (deps.queue.push(() => answerKept(c, deps), `${c.cmd.app}:${c.cmd.chatId}`)) return;
  deps.telemetry?.command('any', 'queue_full');
  deps.logger?.warn({ chat: c.cmd.chatId }, 'inbound queue full: told the person to try again in a minute');
  const { locale } = deps.commands.settings.of(c.cmd.app);
  void answerOutside(c.cmd, noticeCard(locale, cardTexts(locale).queueFull, { color: 'orange' }), deps, 'queue_full').then(() =>
    deps.inbox.done(c.key).catch(() => undefined),
  );
}

/** Answers one kept command, then lets it go. Failures are logged with their code; nothing escapes. */
async function answerKept(c: OwedCommand, deps: AdmitDeps): Promise<void> {
  const { cmd } = c;
  const { locale } = deps.commands.settings.of(cmd.app);
  try {
    if (c.attempts > MAX_ATTEMPTS) {
      const err = asTaskbotError(new Error(`a command was taken ${c.attempts} times and never answered`));
      deps.logger?.error(
        { err: err.toJSON(), chat: cmd.chatId, command: parseCommand(cmd.text).command },
        'a command whose holders kept going away: answered with an apology',
      );
      await send(cmd, errorCard(err, locale), deps);
    } else if (c.busy) {
      deps.telemetry?.command('any', 'busy');
      deps.logger?.warn({ chat: cmd.chatId, user: cmd.userId }, 'over the command limit: told to slow down');
      await send(cmd, noticeCard(locale, cardTexts(locale).busy, { color: 'orange' }), deps);
    } else {
      await handleCommand(cmd, deps.commands, () => deps.inbox.guard(c.key));
    }
  } catch (e) {
    // Taken over meanwhile (this process stalled past its lease): the new holder answers it.
    if (e instanceof LeaseLost) return void deps.logger?.info({ key: c.key, chat: cmd.chatId }, 'another replica took this command over; it answers it');
    // The answer could not be sent, retries included: say which command in which chat went unanswered.
    const err = asTaskbotError(e);
    deps.logger?.error(
      { code: err.code, err: err.toJSON(), app: cmd.app, tenant: cmd.tenant, chat: cmd.chatId, command: parseCommand(cmd.text).command },
      'could not answer a command',
    );
  }
  await deps.inbox
    .done(c.key)
    .catch((e) =>
      deps.logger?.warn({ err: asTaskbotError(e).toJSON(), key: c.key }, 'could not record a command as answered: another replica may answer it again'),
    );
}

/** Answers sent outside the work queue at once: beyond this the process is in trouble and they are only logged. */
const MAX_OUTSIDE_ANSWERS = 8;
let outside = 0;

/** An answer that cannot wait for the queue (full) or the store (failing), bounded, so a command is never met with silence. */
async function answerOutside(cmd: InboundCommand, card: CardModel, deps: InboundDeps, why: string): Promise<void> {
  if (outside >= MAX_OUTSIDE_ANSWERS) return void deps.logger?.error({ chat: cmd.chatId, why }, 'overloaded: a command could not even be told what went wrong');
  outside++;
  try {
    await send(cmd, card, deps);
  } catch (e) {
    deps.logger?.error({ err: asTaskbotError(e).toJSON(), chat: cmd.chatId, why }, 'could not send an answer');
  } finally {
    outside--;
  }
}

async function send(cmd: InboundCommand, card: CardModel, deps: InboundDeps): Promise<void> {
  await messengerOf(deps.commands.messengers, cmd.app).send({ app: cmd.app, platform: cmd.platform, chatId: cmd.chatId }, card, cmd.reply);
}

/**
 * What one app's receivers hand their traffic to: everything they say is stamped with the app, and
 * their keys (deliveries, cards, forms) moved into its namespace (appKey), so nothing of one app
 * is taken for another's.
 */
export function inboundPort(deps: AdmitDeps, app: { id: string; platform: Platform }): InboundPort {
  const { locale } = deps.commands.settings.of(app.id);
  const actions: CardActionDeps = {
    watch: deps.commands.watch,
    cards: deps.commands.cards,
    locale,
    clock: deps.clock,
    ...(deps.logger && { logger: deps.logger }),
    may: (q) => may(deps.commands, q),
    presses: deps.presses,
    exportFailed: (cardKey, key) => startExport({ ...deps.commands, store: deps.store }, cardKey, key),
  };
  const inApp = (k: string) => appKey(app, k);
  const stamp = (cmd: PlatformCommand): InboundCommand => ({
    ...cmd,
    app: app.id,
    reply: { ...cmd.reply, ...(cmd.reply.idempotencyKey && { idempotencyKey: inApp(cmd.reply.idempotencyKey) }) },
  });
  const form = { commands: deps.commands, clock: deps.clock, presses: deps.presses, keep: (cmd: InboundCommand, keys: string[]) => accept(cmd, keys, deps) };
  return {
    locale,
    command: (cmd, keys) => accept(stamp(cmd), keys.map(inApp), deps),
    trackForm: (submitted, budgetMs) =>
      trackForm(
        { cmd: stamp(submitted.cmd), keys: submitted.keys.map(inApp), ...(submitted.delivered && { delivered: inApp(submitted.delivered) }) },
        budgetMs,
        form,
      ).catch((e: unknown) => {
        // The store failing, or a bug: told with the id the log line carries.
        const err = asTaskbotError(e);
        deps.logger?.warn({ err: err.toJSON(), app: app.id, chat: submitted.cmd.chatId }, 'form submission failed');
        return { ok: false, toast: `${cardTexts(locale).toastFailed}: ${errorLine(err, locale)}` };
      }),
    event: (type) => deps.telemetry?.event({ app: app.id, platform: app.platform }, type),
    async cardAction(press, budgetMs) {
      const inAppPress = { ...press, cardKey: inApp(press.cardKey), ...(press.deliveryKey && { deliveryKey: inApp(press.deliveryKey) }) };
      // A press the store cannot record is still answered (its work tells what fails).
      const fresh = inAppPress.deliveryKey
        ? await withDeadline(deps.store.inbox.claim([inAppPress.deliveryKey], deps.clock.now(), DEDUPE_TTL_MS), KEEP_DEADLINE_MS).catch(() => true)
        : true;
      if (!fresh) return { kind: 'duplicate', toast: cardTexts(locale).toastRefreshing };
      return cardAction(inAppPress, actions, budgetMs);
    },
  };
}

import { lark, type LarkSdk } from './sdk.js';
import type { Logger } from 'pino';
import { renderFeishuCard } from '../../cards/feishu.js';
import type { InboundPort } from '../../domain/inbound-port.js';
import { BUTTON_ACTIONS, TRACK_ACTION, type ButtonAction } from '../../domain/card.js';
import { cardTexts } from '../../i18n/card-texts.js';
import { CardActionEvent, menuCommand, readMessage, trackFormCommand } from './event-readers.js';
import { sdkLogger } from './sdk-logger.js';

export interface FeishuEventDeps {
  port: InboundPort;
  /** The bot's open_id (from bot/v3/info at start). */
  botOpenId: () => string;
  logger?: Logger;
}

/** Feishu wants a card callback answered within 3 s; the work itself gets 1.5 s. */
export const CARD_ACTION_BUDGET_MS = 1500;
/** A form's task lookup gets 2 s of the 3 (keeping the command after it takes milliseconds). */
export const TRACK_FORM_BUDGET_MS = 2000;

/**
 * One EventDispatcher for the long connection and webhook mode alike. Messages are acknowledged
 * once kept (the handler only stores and queues them); card callbacks are answered within the deadline.
 */
export function feishuDispatcher(deps: FeishuEventDeps, keys: { encryptKey?: string; verificationToken?: string } = {}): LarkSdk.EventDispatcher {
  const dispatcher = new lark.EventDispatcher({ ...keys, logger: sdkLogger(deps.logger), loggerLevel: lark.LoggerLevel.warn });
  dispatcher.register({
    'im.message.receive_v1': (data: unknown) => onMessage(data, deps),
    'card.action.trigger': (data: unknown) => onCardAction(data, deps),
    'application.bot.menu_v6': (data: unknown) => onMenu(data, deps),
  } as unknown as Parameters<LarkSdk.EventDispatcher['register']>[0]);
  return dispatcher;
}

/** Quick: the ACK goes back once the command is kept (the SDK answers when this resolves); the work is queued. */
async function onMessage(data: unknown, deps: FeishuEventDeps): Promise<void> {
  deps.port.event('im.message.receive_v1');
  const read = readMessage(data, deps.botOpenId());
  if ('issue' in read) return void deps.logger?.warn({ issue: read.issue }, 'malformed im.message.receive_v1 ignored');
  if (read.cmd) await deps.port.command(read.cmd, read.keys); // else: not addressed to us
}

/** A bot menu click: acknowledged once kept, like a message; answered in the clicker's 1:1 chat. */
async function onMenu(data: unknown, deps: FeishuEventDeps): Promise<void> {
  deps.port.event('application.bot.menu_v6');
  const read = menuCommand(data);
  if ('issue' in read) return void deps.logger?.warn({ issue: read.issue }, 'malformed application.bot.menu_v6 ignored');
  await deps.port.command(read.cmd, read.keys);
}

export type CardCallbackAnswer = { toast: { type: 'success' | 'info' | 'error'; content: string }; card?: { type: 'raw'; data: unknown } };

async function onCardAction(data: unknown, deps: FeishuEventDeps): Promise<CardCallbackAnswer> {
  deps.port.event('card.action.trigger');
  const parsed = CardActionEvent.safeParse(data);
  const action = (parsed.success ? (parsed.data.action?.value as { action?: unknown } | undefined)?.action : undefined) as
    | ButtonAction
    | typeof TRACK_ACTION
    | undefined;
  const form = parsed.success && action === TRACK_ACTION ? trackFormCommand(parsed.data) : undefined;
  if (form) {
    const r = await deps.port.trackForm(form, TRACK_FORM_BUDGET_MS);
    return { toast: { type: r.ok ? 'success' : 'error', content: r.toast } };
  }
  if (!parsed.success || !action || action === TRACK_ACTION || !BUTTON_ACTIONS.includes(action)) {
    deps.logger?.warn('card callback we do not understand ignored');
    return { toast: { type: 'info', content: cardTexts(deps.port.locale).toastUnknownCard } };
  }
  const ev = parsed.data;
  const outcome = await deps.port.cardAction(
    {
      cardKey: `feishu:${ev.context.open_message_id}`,
      action,
      ...(ev.context.open_chat_id && { chatId: ev.context.open_chat_id }),
      ...(ev.event_id && { deliveryKey: `feishu:card:${ev.event_id}` }),
      ...(ev.operator?.open_id && { userId: ev.operator.open_id }),
    },
    CARD_ACTION_BUDGET_MS,
  );
  if (outcome.kind === 'card') return { toast: { type: 'success', content: outcome.toast }, card: { type: 'raw', data: renderFeishuCard(outcome.card) } };
  return { toast: { type: outcome.kind === 'duplicate' ? 'info' : outcome.level, content: outcome.toast } };
}

import { TOPIC_CARD, TOPIC_ROBOT, type DWClientDownStream } from 'dingtalk-stream';
import type { Logger } from 'pino';
import { z } from 'zod';
import { cardAction } from '../../app/card-actions.js';
import { admit, claimDelivery, type AdmitDeps } from '../../app/inbound.js';
import type { InboundCommand } from '../../commands/context.js';
import { renderCardParams } from '../../cards/dingtalk.js';
import { USER_CHAT_PREFIX } from './messenger.js';
import type { StreamClient } from './stream-client.js';

/** DingTalk wants a card callback answered within 2 s; the work itself gets 1.2 s. */
export const DINGTALK_CARD_BUDGET_MS = 1200;

const RobotMessage = z.object({
  msgId: z.string(),
  conversationId: z.string(),
  conversationType: z.string(),
  senderStaffId: z.string().optional(),
  senderId: z.string().optional(),
  msgtype: z.string().optional(),
  text: z.object({ content: z.string() }).optional(),
  sessionWebhook: z.string().optional(),
  sessionWebhookExpiredTime: z.number().optional(),
});
type RobotMessage = z.output<typeof RobotMessage>;

const CardCallback = z.object({ outTrackId: z.string(), userId: z.string().optional(), content: z.string().optional() });

export interface DingtalkEventDeps extends AdmitDeps {
  /** staffId → unionId, for storage tasks. */
  unionIdOf: (staffId: string) => Promise<string>;
  logger?: Logger;
}

/** Robot messages are acknowledged at once and worked in the queue; card callbacks are answered within 2 s. */
export function registerDingtalkHandlers(client: StreamClient, deps: DingtalkEventDeps): void {
  client.listen(TOPIC_ROBOT, (msg) => {
    client.socketCallBackResponse(msg.headers.messageId, {});
    onRobotMessage(msg, deps);
  });
  client.listen(TOPIC_CARD, async (msg) => {
    client.socketCallBackResponse(msg.headers.messageId, await onCardCallback(msg, deps));
  });
}

function onRobotMessage(msg: DWClientDownStream, deps: DingtalkEventDeps): void {
  deps.telemetry?.event('dingtalk', 'robot_message');
  const parsed = RobotMessage.safeParse(safeJson(msg.data));
  if (!parsed.success) {
    deps.logger?.warn({ issue: parsed.error.issues[0]?.message }, 'malformed robot message ignored');
    return;
  }
  const cmd = toInbound(parsed.data, deps);
  if (cmd) admit(cmd, [`dingtalk:msg:${parsed.data.msgId}`], deps);
}

/** A robot message as a neutral command; 1:1 chats are keyed by the person. */
export function toInbound(m: RobotMessage, deps: Pick<DingtalkEventDeps, 'unionIdOf'>): InboundCommand | undefined {
  const staffId = m.senderStaffId;
  const p2p = m.conversationType === '1';
  if (p2p && !staffId) return undefined; // nobody to answer
  return {
    platform: 'dingtalk',
    chatId: p2p ? `${USER_CHAT_PREFIX}${staffId}` : m.conversationId,
    chatType: p2p ? 'p2p' : 'group',
    userId: staffId ?? m.senderId ?? '',
    // Only text carries a command; anything else addressed to the bot gets the help card.
    text: m.msgtype === 'text' || m.msgtype === undefined ? (m.text?.content ?? '').trim() : '',
    reply: {
      messageId: m.msgId,
      idempotencyKey: `dingtalk:${m.msgId}`,
      ...(m.sessionWebhook && { sessionWebhook: m.sessionWebhook, sessionWebhookExpiresAt: m.sessionWebhookExpiredTime ?? 0 }),
    },
    ...(staffId && { operator: () => deps.unionIdOf(staffId) }),
  };
}

async function onCardCallback(msg: DWClientDownStream, deps: DingtalkEventDeps): Promise<Record<string, unknown>> {
  deps.telemetry?.event('dingtalk', 'card_callback');
  const { settings } = deps.commands;
  const parsed = CardCallback.safeParse(safeJson(msg.data));
  const action = parsed.success ? actionOf(parsed.data.content) : undefined;
  if (!parsed.success || (action !== 'refresh' && action !== 'stop')) {
    deps.logger?.warn({ topic: msg.headers.topic }, 'card callback we do not understand: acknowledged');
    return {};
  }
  if (!(await claimDelivery(deps.store, [`dingtalk:card:${msg.headers.messageId}`], deps.clock.now()))) return {};
  const outcome = await cardAction(
    { cardKey: `dingtalk:${parsed.data.outTrackId}`, action },
    { engine: deps.commands.engine, locale: settings.locale, clock: deps.clock, logger: deps.logger },
    DINGTALK_CARD_BUDGET_MS,
  );
  const cardParamMap = outcome.kind === 'card' ? renderCardParams(outcome.card) : { note: outcome.toast };
  return { cardData: { cardParamMap }, cardUpdateOptions: { updateCardDataByKey: true } };
}

/** content: '{"cardPrivateData":{"actionIds":["refresh"],"params":{"action":"refresh"}}}' */
function actionOf(content: string | undefined): string | undefined {
  const c = safeJson(content ?? '') as { cardPrivateData?: { actionIds?: unknown[]; params?: { action?: unknown } } } | undefined;
  const p = c?.cardPrivateData;
  const a = p?.params?.action ?? p?.actionIds?.[0];
  return typeof a === 'string' ? a : undefined;
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

import { TOPIC_CARD, TOPIC_ROBOT, type DWClientDownStream } from './sdk.js';
import type { Logger } from 'pino';
import { z } from 'zod';
import { loose, parseJsonText } from '../lenient.js';
import { readRobotMessage } from './inbound.js';
import type { InboundPort } from '../../domain/inbound.js';
import { BUTTON_ACTIONS, type ButtonAction } from '../../domain/card.js';
import { renderCardParams } from '../../cards/dingtalk.js';
import type { StreamClient } from './stream-client.js';

/** DingTalk wants a card callback answered within 2 s; the work itself gets 1.2 s. */
export const DINGTALK_CARD_BUDGET_MS = 1200;

const CardCallback = z.object({ outTrackId: loose.id, userId: loose.string, content: z.unknown().optional() });

export interface DingtalkEventDeps {
  port: InboundPort;
  /** staffId → unionId, for storage tasks. */
  unionIdOf: (staffId: string) => Promise<string>;
  logger?: Logger;
}

/** Robot messages are acknowledged once kept and worked in the queue; card callbacks are answered within 2 s. */
export function registerDingtalkHandlers(client: StreamClient, deps: DingtalkEventDeps): void {
  client.listen(TOPIC_ROBOT, async (msg) => {
    // Acknowledged once the command is kept: a process that dies now leaves it to another.
    await onRobotMessage(msg, deps);
    client.socketCallBackResponse(msg.headers.messageId, {});
  });
  client.listen(TOPIC_CARD, async (msg) => {
    client.socketCallBackResponse(msg.headers.messageId, await onCardCallback(msg, deps));
  });
}

async function onRobotMessage(msg: DWClientDownStream, deps: DingtalkEventDeps): Promise<void> {
  deps.port.event('dingtalk', 'robot_message');
  const read = readRobotMessage(msg.data, deps);
  if ('issue' in read) return void deps.logger?.warn({ issue: read.issue }, 'malformed robot message ignored');
  if (read.cmd) await deps.port.command(read.cmd, read.keys);
  else deps.logger?.info('1:1 robot message without a senderStaffId: nobody to answer');
}

async function onCardCallback(msg: DWClientDownStream, deps: DingtalkEventDeps): Promise<Record<string, unknown>> {
  deps.port.event('dingtalk', 'card_callback');
  const parsed = CardCallback.safeParse(parseJsonText(msg.data));
  const action = parsed.success ? actionOf(parsed.data.content) : undefined;
  if (!parsed.success || !action) {
    deps.logger?.warn({ topic: msg.headers.topic }, 'card callback we do not understand: acknowledged');
    return {};
  }
  const outcome = await deps.port.cardAction(
    { cardKey: `dingtalk:${parsed.data.outTrackId}`, action, deliveryKey: `dingtalk:card:${msg.headers.messageId}`, ...(parsed.data.userId && { userId: parsed.data.userId }) },
    DINGTALK_CARD_BUDGET_MS,
  );
  if (outcome.kind === 'duplicate') return {};
  const cardParamMap = outcome.kind === 'card' ? renderCardParams(outcome.card) : { note: outcome.toast };
  return { cardData: { cardParamMap }, cardUpdateOptions: { updateCardDataByKey: true } };
}

/** content: '{"cardPrivateData":{"actionIds":["refresh"],"params":{"action":"refresh"}}}' (a JSON string, or already an object). */
function actionOf(content: unknown): ButtonAction | undefined {
  const c = (typeof content === 'string' ? parseJsonText(content) : content) as { cardPrivateData?: { actionIds?: unknown[]; params?: { action?: unknown } } } | undefined;
  const p = c?.cardPrivateData;
  const a = p?.params?.action ?? p?.actionIds?.[0];
  return BUTTON_ACTIONS.find((x) => x === a);
}

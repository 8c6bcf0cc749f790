import { TOPIC_CARD, TOPIC_ROBOT, type DWClientDownStream } from './sdk.js';
import type { Logger } from 'pino';
import { readRobotMessage } from './robot-message.js';
import { readCardCallback, readFormSubmission, refilledForm, type CallbackRead } from './card-callback.js';
import type { FormSubmission, InboundPort } from '../../domain/inbound-port.js';
import { BUTTON_ACTIONS } from '../../domain/card.js';
import { DINGTALK_PARAM_MAX_BYTES, renderCardParams } from '../../cards/dingtalk.js';
import { clipBytes } from '../../cards/shrink.js';
import type { StreamClient } from './stream-client.js';

/** DingTalk wants a card callback answered within 2 s; the work itself gets 1.2 s. */
export const DINGTALK_CARD_BUDGET_MS = 1200;

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
  deps.port.event('robot_message');
  const read = readRobotMessage(msg.data, deps);
  if ('issue' in read) return void deps.logger?.warn({ issue: read.issue }, 'malformed robot message ignored');
  if (read.cmd) await deps.port.command(read.cmd, read.keys);
  else deps.logger?.info('1:1 robot message without a senderStaffId: nobody to answer');
}

async function onCardCallback(msg: DWClientDownStream, deps: DingtalkEventDeps): Promise<Record<string, unknown>> {
  deps.port.event('card_callback');
  const cb = readCardCallback(msg.data);
  const form = cb && readFormSubmission(cb, msg.headers.messageId, deps.unionIdOf);
  if (cb && form) return onFormSubmission(cb, form, deps);
  const a = cb?.params.action ?? cb?.actionIds[0];
  const action = BUTTON_ACTIONS.find((x) => x === a);
  if (!cb || !action) {
    deps.logger?.warn({ topic: msg.headers.topic }, 'card callback we do not understand: acknowledged');
    return {};
  }
  const outcome = await deps.port.cardAction(
    { cardKey: `dingtalk:${cb.outTrackId}`, action, deliveryKey: `dingtalk:card:${msg.headers.messageId}`, ...(cb.userId && { userId: cb.userId }) },
    DINGTALK_CARD_BUDGET_MS,
  );
  if (outcome.kind === 'duplicate') return {};
  const cardParamMap = outcome.kind === 'card' ? renderCardParams(outcome.card) : { note: outcome.toast };
  return { cardData: { cardParamMap }, cardUpdateOptions: { updateCardDataByKey: true } };
}

/**
 * The Track a task form: the answer is the submitter's own (private data): `note` says what
 * happened, as Feishu's toast does, and the form is drawn again filled with what they entered
 * (to fix it when refused; to see what was asked, and change it for the next task, when taken).
 */
async function onFormSubmission(
  cb: CallbackRead,
  form: FormSubmission & { values: Record<string, unknown> },
  deps: DingtalkEventDeps,
): Promise<Record<string, unknown>> {
  const r = await deps.port.trackForm(form, DINGTALK_CARD_BUDGET_MS);
  const refill = refilledForm(cb.params, form.values);
  const cardParamMap = { note: clipBytes(r.toast, DINGTALK_PARAM_MAX_BYTES), ...(refill && { form: refill }) };
  return { userPrivateData: { cardParamMap }, cardUpdateOptions: { updatePrivateDataByKey: true } };
}

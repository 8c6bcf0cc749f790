import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Clock } from '../domain/clock.js';
import type { Messenger } from '../domain/chat.js';
import type { Telemetry } from '../domain/telemetry.js';
import type { Platform } from '../domain/task.js';
import { DingtalkMessenger } from '../platforms/dingtalk/messenger.js';
import { FeishuMessenger } from '../platforms/feishu/messenger.js';
import { meteredMessenger } from './metered-messenger.js';
import type { Services } from './services.js';

/** The outgoing side of every configured platform, each write counted. */
export function buildMessengers(
  config: Config,
  services: Services,
  o: { clock: Clock; logger: Logger; telemetry: Pick<Telemetry, 'cardWrite'> },
): Partial<Record<Platform, Messenger>> {
  const messengers: Partial<Record<Platform, Messenger>> = {};
  if (services.feishu) messengers.feishu = meteredMessenger('feishu', new FeishuMessenger(services.feishu), o.telemetry);
  if (services.dingtalk && config.dingtalk) {
    const dingtalk = new DingtalkMessenger(services.dingtalk, {
      robotCode: config.dingtalk.robotCode,
      cardTemplateId: config.dingtalk.cardTemplateId,
      topBoxTemplateId: config.dingtalk.topBoxTemplateId,
      formTemplateId: config.dingtalk.formTemplateId,
      now: () => o.clock.now(),
      onTopBoxLost: (err, outTrackId) =>
        o.logger.warn({ code: err.code, err: err.toJSON(), outTrackId }, 'a top box could not be updated for good (closed or expired); its card goes on'),
      onFormFailed: (err) =>
        o.logger.warn(
          { code: err.code, err: err.toJSON() },
          'the Track a task form could not be sent with help (the chat was told); check DINGTALK_FORM_TEMPLATE_ID and the card permission',
        ),
      onCardsBroken: (err) =>
        o.logger.error(
          { code: err.code, err: err.toJSON() },
          'DingTalk cards cannot be created: answering in markdown; check DINGTALK_CARD_TEMPLATE_ID and the Card.Instance.Write permission',
        ),
    });
    messengers.dingtalk = meteredMessenger('dingtalk', dingtalk, o.telemetry);
  }
  return messengers;
}

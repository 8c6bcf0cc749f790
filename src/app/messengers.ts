import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import type { Messenger, Messengers } from '../domain/chat.js';
import type { Telemetry } from '../domain/telemetry.js';
import { DingtalkMessenger } from '../platforms/dingtalk/messenger.js';
import { FeishuMessenger } from '../platforms/feishu/messenger.js';
import { meteredMessenger } from './metered-messenger.js';
import type { Services } from './services.js';

/** The outgoing side of every app, each write counted. */
export function buildMessengers(services: Services, o: { clock: Clock; logger: Logger; telemetry: Pick<Telemetry, 'cardWrite'> }): Messengers {
  const messengers: Record<string, Messenger> = {};
  for (const [id, app] of services.apps) {
    const logger = o.logger.child({ app: id });
    if (app.platform === 'feishu') {
      messengers[id] = meteredMessenger({ app: id, platform: 'feishu' }, new FeishuMessenger(app.api), o.telemetry);
      continue;
    }
    const dingtalk = new DingtalkMessenger(app.api, {
      robotCode: app.config.robotCode,
      cardTemplateId: app.config.cardTemplateId,
      topBoxTemplateId: app.config.topBoxTemplateId,
      formTemplateId: app.config.formTemplateId,
      now: () => o.clock.now(),
      onTopBoxLost: (err, outTrackId) =>
        logger.warn({ code: err.code, err: err.toJSON(), outTrackId }, 'a top box could not be updated for good (closed or expired); its card goes on'),
      onFormFailed: (err) =>
        logger.warn(
          { code: err.code, err: err.toJSON() },
          "the Track a task form could not be sent with help (the chat was told); check the app's form template id and the card permission",
        ),
      onCardsBroken: (err) =>
        logger.error(
          { code: err.code, err: err.toJSON() },
          "DingTalk cards cannot be created: answering in markdown; check the app's card template id and the Card.Instance.Write permission",
        ),
    });
    messengers[id] = meteredMessenger({ app: id, platform: 'dingtalk' }, dingtalk, o.telemetry);
  }
  return messengers;
}

import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { HttpServer } from '../http/server.js';
import { feishuDispatcher } from '../platforms/feishu/events.js';
import type { FeishuOpenApi } from '../platforms/feishu/openapi.js';
import { handleFeishuWebhook } from '../platforms/feishu/webhook.js';
import { FeishuWsReceiver } from '../platforms/feishu/ws-receiver.js';
import type { InboundDeps } from './inbound.js';
import type { WorkQueue } from './work-queue.js';
import type { FloodGuard } from './flood.js';

/** A connected platform, as the bot sees it. */
export interface PlatformRuntime {
  platform: 'feishu' | 'dingtalk';
  connected(): boolean;
  stop(): void;
}

export interface FeishuRuntimeDeps {
  config: NonNullable<Config['feishu']>;
  api: FeishuOpenApi;
  http: HttpServer;
  inbound: InboundDeps;
  queue: WorkQueue;
  flood: FloodGuard;
  logger: Logger;
}

/** Feishu: learn the bot's open_id, then receive over the long connection or the webhook routes. */
export async function startFeishu(d: FeishuRuntimeDeps): Promise<PlatformRuntime> {
  const bot = await d.api.botInfo();
  const log = d.logger.child({ platform: 'feishu' });
  log.info({ bot: bot.name, openId: bot.openId }, 'Feishu bot identity');
  const keys = { ...(d.config.encryptKey && { encryptKey: d.config.encryptKey }), ...(d.config.verificationToken && { verificationToken: d.config.verificationToken }) };
  const dispatcher = feishuDispatcher({ ...d.inbound, queue: d.queue, flood: d.flood, botOpenId: () => bot.openId, logger: log }, keys);

  if (d.config.eventMode === 'webhook') {
    // config.ts guarantees both keys in webhook mode.
    const cfg = { encryptKey: d.config.encryptKey!, verificationToken: d.config.verificationToken!, dispatcher, logger: log };
    for (const path of ['/feishu/webhook/event', '/feishu/webhook/card']) {
      d.http.route('POST', path, (req) => handleFeishuWebhook(req, cfg));
    }
    return { platform: 'feishu', connected: () => true, stop: () => undefined };
  }
  const ws = new FeishuWsReceiver({ appId: d.config.appId, appSecret: d.config.appSecret, domain: d.config.domain, dispatcher, logger: log });
  await ws.start();
  return { platform: 'feishu', connected: () => ws.connected, stop: () => ws.stop() };
}

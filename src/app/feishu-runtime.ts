import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { HttpServer } from '../http/server.js';
import { persist, type RetryPolicy } from '../http/retry.js';
import { feishuDispatcher } from '../platforms/feishu/dispatcher.js';
import type { FeishuApi } from '../platforms/feishu/api-client.js';
import { handleFeishuWebhook } from '../platforms/feishu/webhook.js';
import { FeishuWsReceiver } from '../platforms/feishu/ws-receiver.js';
import type { InboundPort } from '../domain/inbound-port.js';
import { isFatal, RECONNECT_POLICY, type OnFatal, type PlatformRuntime, type PlatformStatus } from './platform-runtime.js';

export interface FeishuRuntimeDeps {
  config: NonNullable<Config['feishu']>;
  api: FeishuApi;
  http: HttpServer;
  /** What the platform's events turn into (admission/accept.ts). */
  port: InboundPort;
  logger: Logger;
  onFatal: OnFatal;
  /** Tests shorten the reconnect backoff and the wait for the first connection. */
  reconnect?: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'> & { readyTimeoutMs?: number };
}

/**
 * Feishu, in the background: learn the bot's open_id, then receive over the long connection or
 * the webhook routes. Until that works it keeps trying with capped backoff and says why in
 * status(); webhook deliveries meanwhile get 503 so Feishu delivers them again later.
 */
export function startFeishu(d: FeishuRuntimeDeps): PlatformRuntime {
  const log = d.logger.child({ platform: 'feishu' });
  const stopping = new AbortController();
  let identity: { openId: string; name: string } | undefined;
  let ws: FeishuWsReceiver | undefined;
  let error: string | undefined;
  const keys = {
    ...(d.config.encryptKey && { encryptKey: d.config.encryptKey }),
    ...(d.config.verificationToken && { verificationToken: d.config.verificationToken }),
  };
  const dispatcher = feishuDispatcher({ port: d.port, botOpenId: () => identity?.openId ?? '', logger: log }, keys);
  const webhook = d.config.eventMode === 'webhook';

  if (webhook) {
    // config.ts guarantees both keys in webhook mode.
    const cfg = { encryptKey: d.config.encryptKey!, verificationToken: d.config.verificationToken!, dispatcher, logger: log };
    for (const path of ['/feishu/webhook/event', '/feishu/webhook/card']) {
      d.http.route(
        'POST',
        path,
        (req) => (identity ? handleFeishuWebhook(req, cfg) : { status: 503, body: { error: 'starting: the Feishu bot identity is not known yet' } }),
        { json: true },
      );
    }
  }

  const connect = async () => {
    if (!identity) {
      identity = await d.api.botInfo();
      log.info({ bot: identity.name, openId: identity.openId }, 'Feishu bot identity');
    }
    // stop() may have come while Feishu answered: open nothing then.
    if (webhook || stopping.signal.aborted) return;
    ws?.stop();
    ws = new FeishuWsReceiver({
      appId: d.config.appId,
      appSecret: d.config.appSecret,
      domain: d.config.domain,
      dispatcher,
      logger: log,
      ...(d.reconnect?.readyTimeoutMs && { readyTimeoutMs: d.reconnect.readyTimeoutMs }),
      onLost: (e) => {
        error = e.message;
        run();
      },
    });
    await ws.start();
  };

  let running = false;
  const run = () => {
    if (running || stopping.signal.aborted) return;
    running = true;
    persist(connect, {
      policy: d.reconnect ?? RECONNECT_POLICY,
      signal: stopping.signal,
      isFatal,
      onFailure: (err, attempt, delayMs) => {
        error = `${err.code}: ${err.message}`;
        log.warn({ code: err.code, err: err.toJSON(), attempt, delayMs }, 'Feishu not connected; retrying');
      },
    })
      .then((ok) => {
        if (ok) error = undefined;
      })
      .catch((e) => d.onFatal(e))
      .finally(() => (running = false));
  };
  run();

  return {
    platform: 'feishu',
    status(): PlatformStatus {
      const up = identity !== undefined && (webhook || (ws?.connected ?? false));
      return { ok: up, state: up ? 'connected' : identity ? 'reconnecting' : 'connecting', ...(!up && error && { error }) };
    },
    stop() {
      stopping.abort();
      ws?.stop();
    },
  };
}

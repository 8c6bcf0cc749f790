import type { Logger } from 'pino';
import type { FeishuAppConfig } from '../apps-file.js';
import type { HttpServer } from '../http/server.js';
import { persist, type RetryPolicy } from '../http/retry.js';
import { feishuDispatcher } from '../platforms/feishu/dispatcher.js';
import type { FeishuApi } from '../platforms/feishu/api-client.js';
import { handleFeishuWebhook } from '../platforms/feishu/webhook.js';
import { FeishuWsReceiver } from '../platforms/feishu/ws-receiver.js';
import type { InboundPort } from '../domain/inbound-port.js';
import type { TaskbotError } from '../domain/errors.js';
import { isFatal, RECONNECT_POLICY, type OnFatal, type PlatformRuntime, type PlatformStatus } from './platform-runtime.js';

export interface FeishuRuntimeDeps {
  config: FeishuAppConfig;
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
 * One Feishu (or Lark) app, in the background: learn the bot's open_id, then receive over the long
 * connection or its webhook routes (`/feishu/<id>/webhook/…`; the app `feishu` also keeps the
 * single-app paths). Until that works it keeps trying with capped backoff and says why in
 * status(); webhook deliveries meanwhile get 503 so Feishu delivers them again later. Refused
 * credentials fail this app only.
 */
export function startFeishu(d: FeishuRuntimeDeps): PlatformRuntime {
  const log = d.logger.child({ app: d.config.id, platform: 'feishu' });
  const stopping = new AbortController();
  let identity: { openId: string; name: string } | undefined;
  let ws: FeishuWsReceiver | undefined;
  let error: string | undefined;
  let failed = false;
  const keys = {
    ...(d.config.encryptKey && { encryptKey: d.config.encryptKey }),
    ...(d.config.verificationToken && { verificationToken: d.config.verificationToken }),
  };
  const dispatcher = feishuDispatcher({ port: d.port, botOpenId: () => identity?.openId ?? '', logger: log }, keys);
  const webhook = d.config.eventMode === 'webhook';

  if (webhook) {
    // config.ts guarantees both keys in webhook mode.
    const cfg = { appId: d.config.appId, encryptKey: d.config.encryptKey!, verificationToken: d.config.verificationToken!, dispatcher, logger: log };
    const paths = [`/feishu/${d.config.id}/webhook/event`, `/feishu/${d.config.id}/webhook/card`];
    if (d.config.id === 'feishu') paths.push('/feishu/webhook/event', '/feishu/webhook/card');
    for (const path of paths) {
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
      .catch((e: TaskbotError) => {
        failed = true;
        error = `${e.code}: ${e.message}`;
        log.error({ code: e.code, err: e.toJSON() }, 'Feishu app refused: it stays off until its configuration is fixed; the other apps go on');
        d.onFatal(e);
      })
      .finally(() => (running = false));
  };
  run();

  return {
    app: d.config.id,
    platform: 'feishu',
    status(): PlatformStatus {
      const up = !failed && identity !== undefined && (webhook || (ws?.connected ?? false));
      const state = up ? 'connected' : failed ? 'failed' : identity ? 'reconnecting' : 'connecting';
      return { ok: up, state, ...(!up && error && { error }) };
    },
    stop() {
      stopping.abort();
      ws?.stop();
    },
  };
}

import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { asTaskbotError } from '../domain/errors.js';
import { registerDingtalkHandlers } from '../platforms/dingtalk/handlers.js';
import type { DingtalkApi } from '../platforms/dingtalk/api-client.js';
import { StreamClient } from '../platforms/dingtalk/stream-client.js';
import type { InboundPort } from '../domain/inbound-port.js';
import { RECONNECT_POLICY, type OnFatal, type PlatformRuntime } from './platform-runtime.js';

export interface DingtalkRuntimeDeps {
  config: NonNullable<Config['dingtalk']>;
  api: DingtalkApi;
  /** What the platform's events turn into (admission/accept.ts). */
  port: InboundPort;
  logger: Logger;
  onFatal: OnFatal;
  /** Tests shorten the reconnect backoff and the idle watchdog. */
  stream?: { backoffBaseMs?: number; backoffMaxMs?: number; idleMs?: number };
}

/**
 * DingTalk: robot messages and card callbacks over Stream mode, connected in the background
 * (the client retries with capped backoff); refused credentials are fatal.
 */
export function startDingtalk(d: DingtalkRuntimeDeps): PlatformRuntime {
  const log = d.logger.child({ platform: 'dingtalk' });
  const client = new StreamClient({
    clientId: d.config.clientId,
    clientSecret: d.config.clientSecret,
    apiBase: d.config.apiBase,
    logger: log,
    backoffBaseMs: RECONNECT_POLICY.baseDelayMs,
    backoffMaxMs: RECONNECT_POLICY.maxDelayMs,
    ...d.stream,
  });
  registerDingtalkHandlers(client, { port: d.port, unionIdOf: (id) => d.api.unionIdOf(id), logger: log });
  client.start().catch((e) => d.onFatal(asTaskbotError(e)));
  return {
    platform: 'dingtalk',
    status() {
      const ok = client.connected;
      return {
        ok,
        state: ok ? 'connected' : client.everConnected ? 'reconnecting' : 'connecting',
        ...(!ok && client.lastError && { error: client.lastError }),
      };
    },
    stop: () => client.stop(),
  };
}

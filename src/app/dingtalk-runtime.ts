import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { registerDingtalkHandlers } from '../platforms/dingtalk/events.js';
import type { DingtalkOpenApi } from '../platforms/dingtalk/openapi.js';
import { StreamClient } from '../platforms/dingtalk/stream-client.js';
import type { PlatformRuntime } from './feishu-runtime.js';
import type { InboundDeps } from './inbound.js';
import type { WorkQueue } from './work-queue.js';
import type { FloodGuard } from './flood.js';

export interface DingtalkRuntimeDeps {
  config: NonNullable<Config['dingtalk']>;
  api: DingtalkOpenApi;
  inbound: InboundDeps;
  queue: WorkQueue;
  flood: FloodGuard;
  logger: Logger;
  /** Tests shorten the reconnect backoff and the idle watchdog. */
  stream?: { backoffBaseMs?: number; backoffMaxMs?: number; idleMs?: number };
}

/** DingTalk: robot messages and card callbacks over Stream mode. */
export async function startDingtalk(d: DingtalkRuntimeDeps): Promise<PlatformRuntime> {
  const log = d.logger.child({ platform: 'dingtalk' });
  const client = new StreamClient({ clientId: d.config.clientId, clientSecret: d.config.clientSecret, apiBase: d.config.apiBase, logger: log, ...d.stream });
  registerDingtalkHandlers(client, { ...d.inbound, queue: d.queue, flood: d.flood, unionIdOf: (id) => d.api.unionIdOf(id), logger: log });
  await client.start();
  return { platform: 'dingtalk', connected: () => client.connected, stop: () => client.stop() };
}

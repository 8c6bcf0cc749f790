import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { CommandDeps } from '../commands/context.js';
import { systemClock, type Clock } from '../domain/clock.js';
import type { Messenger } from '../domain/chat.js';
import type { Platform } from '../domain/task.js';
import { DigestScheduler, type ReportSource } from '../digest/scheduler.js';
import { HttpServer } from '../http/server.js';
import { Metrics } from '../http/metrics.js';
import { FeishuMessenger } from '../platforms/feishu/messenger.js';
import { reportSubmissions } from '../providers/feishu-report.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { WatchEngine, type WatchOptions } from '../watch/engine.js';
import { buildServices, type Services } from './services.js';
import { WorkQueue } from './work-queue.js';
import { FloodGuard, type FloodLimits } from './flood.js';
import { startFeishu, type PlatformRuntime } from './feishu-runtime.js';
import { startDingtalk, type DingtalkRuntimeDeps } from './dingtalk-runtime.js';
import { DingtalkMessenger } from '../platforms/dingtalk/messenger.js';

export interface Bot {
  url: string;
  store: Store;
  engine: WatchEngine;
  services: Services;
  stop(): Promise<void>;
}

export interface BotOptions {
  logger: Logger;
  clock?: Clock;
  /** Tests and the sandbox speed the watch up. */
  watch?: Partial<WatchOptions>;
  /** Tests shorten DingTalk's reconnect backoff and idle watchdog. */
  stream?: DingtalkRuntimeDeps['stream'];
  /** How often expired dedupe keys are swept (default hourly). */
  sweepMs?: number;
  /** Per-person and per-chat command limits (defaults: 20 and 60 a minute). */
  flood?: FloodLimits;
  /** Extra HTTP routes (the sandbox console), added before the server listens. */
  routes?: (http: HttpServer) => void;
}

/**
 * Assembles and starts taskbot: store, task services, messengers, watch engine, digests, the
 * platforms' receivers and the HTTP server. stop() drains in-flight work and releases leases.
 */
export async function startBot(config: Config, o: BotOptions): Promise<Bot> {
  const clock = o.clock ?? systemClock;
  const log = o.logger;
  const store = await openStore(config.databaseUrl, (e) => log.warn({ err: e.message }, 'database connection lost; reconnecting'));
  const services = buildServices(config, { logger: log, clock });
  const messengers: Partial<Record<Platform, Messenger>> = {};
  if (services.feishu) messengers.feishu = new FeishuMessenger(services.feishu);
  if (services.dingtalk && config.dingtalk) {
    messengers.dingtalk = new DingtalkMessenger(services.dingtalk, { robotCode: config.dingtalk.robotCode, cardTemplateId: config.dingtalk.cardTemplateId, now: () => clock.now() });
  }
  const engine = new WatchEngine({ store, tasks: services.registry, messengers, timeZone: config.digestTimeZone, clock, logger: log.child({ component: 'watch' }), ...(o.watch && { options: o.watch }) });
  const feishuApi = services.feishu;
  const reports: ReportSource | undefined = feishuApi && {
    async submissions(w) {
      const all = [];
      for await (const s of reportSubmissions(feishuApi, w)) all.push(s);
      return all;
    },
  };
  const digests = new DigestScheduler({ store, messengers, reports, clock, logger: log.child({ component: 'digest' }) });
  const commands: CommandDeps = {
    registry: services.registry,
    engine,
    digests,
    messengers,
    settings: { locale: config.locale, timeZone: config.digestTimeZone, allowedChatIds: config.allowedChatIds, adminUserIds: config.adminUserIds },
    clock,
    ...(reports && { reports }),
    logger: log,
  };
  const queue = new WorkQueue(16, 1000, (e) => log.error({ err: e }, 'background job failed'));
  const flood = new FloodGuard(o.flood);
  const http = new HttpServer(log);
  const metrics = new Metrics({ activeCards: () => store.countActiveCards(), watch: () => engine.stats });
  const runtimes: PlatformRuntime[] = [];
  const inbound = { store, clock, commands, logger: log };

  try {
    if (config.feishu && services.feishu) {
      runtimes.push(await startFeishu({ config: config.feishu, api: services.feishu, http, inbound, queue, flood, logger: log }));
    }
    if (config.dingtalk && services.dingtalk) {
      runtimes.push(await startDingtalk({ config: config.dingtalk, api: services.dingtalk, inbound, queue, flood, logger: log, ...(o.stream && { stream: o.stream }) }));
    }
  } catch (e) {
    for (const r of runtimes) r.stop();
    await store.close();
    throw e;
  }

  http.route('GET', '/healthz', () => ({ status: 200, body: { ok: true } }));
  http.route('GET', '/readyz', async () => {
    const checks: Record<string, boolean> = {};
    checks.store = await store.ping().then(
      () => true,
      () => false,
    );
    for (const r of runtimes) checks[r.platform] = r.connected();
    const ok = Object.values(checks).every(Boolean);
    return { status: ok ? 200 : 503, body: { ok, checks } };
  });
  http.route('GET', '/metrics', async () => ({ status: 200, body: await metrics.text(), contentType: metrics.registry.contentType }));
  o.routes?.(http);
  const url = await http.listen(config.http.host, config.http.port);
  engine.start();
  digests.start();
  // Dedupe keys expire; sweep them (hourly) so the table stays small.
  const sweep = setInterval(() => {
    store.purgeExpired(clock.now()).catch((e) => log.warn({ err: e }, 'dedupe sweep failed'));
  }, o.sweepMs ?? 3600_000);
  sweep.unref();
  log.info({ url, platforms: runtimes.map((r) => r.platform) }, 'taskbot is running');

  return {
    url,
    store,
    engine,
    services,
    async stop() {
      clearInterval(sweep);
      for (const r of runtimes) r.stop();
      await queue.drain();
      await Promise.all([engine.stop(), digests.stop()]);
      await http.close();
      await store.close();
      log.info('taskbot stopped');
    },
  };
}

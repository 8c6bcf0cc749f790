import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { CommandDeps } from '../commands/deps.js';
import { systemClock, type Clock } from '../domain/clock.js';
import type { Platform } from '../domain/task.js';
import { DigestScheduler } from '../digest/scheduler.js';
import { HttpServer, type ServerLimits } from '../http/server.js';
import { bearerMatches } from '../http/auth.js';
import { Metrics } from '../metrics/metrics.js';
import { TaskbotError } from '../domain/errors.js';
import { logConnections } from './connection-log.js';
import type { PlatformRuntime, PlatformStatus } from './platform-runtime.js';
import { openStore, type OpenOptions } from '../store/open.js';
import { StoreClock } from '../store/store-clock.js';
import { chatPrefs } from '../store/chat-settings.js';
import type { Store } from '../store/store.js';
import { WatchEngine } from '../watch/engine.js';
import type { WatchOptions } from '../watch/watch-options.js';
import { DEFAULT_POLL_BUDGET, PollBudget } from '../watch/poll-budget.js';
import { appSettings, buildServices, reportSource, type Services } from './services.js';
import { apiRoutes } from '../api/routes.js';
import { buildMessengers } from './messengers.js';
import { WorkQueue } from '../admission/work-queue.js';
import { Inbox } from '../admission/inbox.js';
import { inboundPort, work, type AdmitDeps } from '../admission/accept.js';
import { Presence } from './presence.js';
import { SHUTDOWN_DEADLINE_MS, stopWithin } from './shutdown.js';
import { DEFAULT_PRESS_LIMITS, FloodGuard, type FloodLimits } from '../admission/flood.js';
import { startFeishu, type FeishuRuntimeDeps } from './feishu-runtime.js';
import { startDingtalk, type DingtalkRuntimeDeps } from './dingtalk-runtime.js';

export interface Bot {
  url: string;
  store: Store;
  engine: WatchEngine;
  services: Services;
  metrics: Metrics;
  /** Settles only when the bot cannot go on without the operator (refused credentials). */
  fatal: Promise<TaskbotError>;
  /** Each app's connection, by app id, as /readyz shows it. */
  apps(): Record<string, PlatformStatus & { platform: Platform }>;
  stop(): Promise<void>;
}

export interface BotOptions {
  logger: Logger;
  clock?: Clock;
  /** Tests speed the watch up. */
  watch?: Partial<WatchOptions>;
  /** Tests shorten DingTalk's reconnect backoff and idle watchdog. */
  stream?: DingtalkRuntimeDeps['stream'];
  /** Tests shorten Feishu's reconnect backoff and first-connection wait. */
  reconnect?: FeishuRuntimeDeps['reconnect'];
  /** HTTP server limits (tests shorten the timeouts). */
  http?: Partial<ServerLimits>;
  /** How often expired dedupe keys are swept (default hourly). */
  sweepMs?: number;
  /** Inbound work: commands worked at once and waiting (defaults: 16 and 1000). */
  queue?: { concurrency: number; maxPending: number };
  /** Per-person and per-chat command limits (defaults: 20 and 60 a minute). */
  flood?: FloodLimits;
  /** Per-person and per-chat limits of button presses and form submissions (defaults: 8 and 30 in 10 s). */
  presses?: FloodLimits;
  /** Extra HTTP routes (the sandbox console), added before the server listens. */
  routes?: (http: HttpServer) => void;
  /** How often this replica tells the others it is alive, and checks that the store takes writes (tests shorten it). */
  heartbeatMs?: number;
  /** The store's deadlines (tests shorten them). */
  store?: Pick<OpenOptions, 'deadlines'>;
  /** How long stop() waits for work in flight. */
  shutdownMs?: number;
}

/** A script's request in flight when the bot stops may finish within this. */
const HTTP_GRACE_MS = 5000;

/**
 * Assembles and starts taskbot: store, HTTP server, watch engine and digests first, then each
 * platform in the background, so one platform that cannot connect blocks neither the other nor
 * the rest (it shows in /readyz and keeps retrying). A start that fails undoes what it started.
 * stop() drains in-flight work and releases leases.
 */
export async function startBot(config: Config, o: BotOptions): Promise<Bot> {
  const log = o.logger;
  const store = await openStore(config.databaseUrl, {
    onPoolError: (e) => log.warn({ err: e.message }, 'database connection lost; reconnecting'),
    onCheckpointFailed: (e) => log.warn({ err: e.message }, 'SQLite checkpoint failed; its -wal file keeps every change, tried again after more writes'),
    ...o.store,
  });
  // Schedules, leases and heartbeats by the store's clock (the database's, on PostgreSQL); durations by the monotonic one.
  const clock = await StoreClock.open(store, o.clock ?? systemClock, log).catch(async (e: unknown) => {
    await store.close();
    throw e;
  });
  const queue = new WorkQueue(o.queue?.concurrency ?? 16, o.queue?.maxPending ?? 1000, (e) => log.error({ err: e }, 'background job failed'));
  const runtimes: PlatformRuntime[] = [];
  const metrics = new Metrics({
    activeCards: () => store.cards.countActive(),
    activeTasks: () => store.tasks.countActive(),
    queueDepth: () => queue.size,
    apps: () => runtimes.map((r) => ({ app: r.app, platform: r.platform, connected: r.status().ok })),
    storeUp: () => replicas.storeUp,
    replicas: () => replicas.count,
    needsAdmin: () => engine.alerts.current().map((a) => ({ ...a, platform: services.apps.get(a.app)?.platform ?? 'unknown' })),
  });
  const replicas = new Presence(store, clock, log, o.heartbeatMs);
  // The poll budgets: the engine's polls take from them, people's reads are charged to them.
  const budget = new PollBudget(o.watch?.pollBudget ?? DEFAULT_POLL_BUDGET, replicas.share);
  const services = buildServices(config, { logger: log, clock, telemetry: metrics, share: replicas.share, budget });
  const messengers = buildMessengers(services, { clock, logger: log, telemetry: metrics });
  // One identity per replica for every lease it takes, so the others can tell when its holder is gone.
  const engine = new WatchEngine({
    store,
    tasks: services.registry,
    messengers,
    timeZone: config.digestTimeZone,
    clock,
    logger: log.child({ component: 'watch' }),
    share: replicas.share,
    budget,
    owner: replicas.owner,
    ...(o.watch && { options: o.watch }),
  });
  const reports = reportSource(services);
  const digests = new DigestScheduler({
    store,
    messengers,
    reports,
    clock,
    logger: log.child({ component: 'digest' }),
    telemetry: metrics,
    owner: replicas.owner,
  });
  const commands: CommandDeps = {
    apps: config.apps.map((a) => ({ id: a.id, platform: a.platform })),
    registry: services.registry,
    watch: engine.cards,
    cards: store.cards,
    digests,
    messengers,
    settings: appSettings(config),
    chats: chatPrefs(store, () => clock.now()),
    forms: store.forms,
    clock,
    ...(reports && { reports }),
    logger: log,
    telemetry: metrics,
  };
  const flood = new FloodGuard(o.flood);
  const http = new HttpServer(log, o.http);
  const inbox = new Inbox({
    store,
    clock,
    owner: replicas.owner,
    logger: log,
    operatorOf: (appId, userId) => {
      const app = services.apps.get(appId);
      return app?.platform === 'dingtalk' ? () => app.api.unionIdOf(userId) : undefined;
    },
    room: () => queue.room,
    adopted: (c) => work(c, inbound),
  });
  const inbound: AdmitDeps = {
    store,
    clock,
    commands,
    logger: log,
    telemetry: metrics,
    queue,
    flood,
    presses: new FloodGuard(o.presses ?? DEFAULT_PRESS_LIMITS),
    inbox,
  };

  http.route('GET', '/healthz', () => ({ status: 200, body: { ok: true } }));
  http.route('GET', '/readyz', async () => {
    // Whether the store takes writes, answered within its deadline however silent the database is.
    const store_ = await replicas.storeCheck();
    // Replicas sharing the database, so sharing the platforms' limits: told, never a failure.
    const replicaCheck = { ok: true, count: replicas.count };
    const apps = Object.fromEntries(runtimes.map((r) => [r.app, appCheck(r)]));
    const checks: Record<string, unknown> = { store: store_, replicas: replicaCheck, apps };
    // The single-app variables' apps keep their keys of before.
    for (const r of runtimes) if (r.app === r.platform) checks[r.platform] = r.status();
    // No app configured (the script API alone, tests) has nothing to wait for.
    const connected = runtimes.length === 0 || runtimes.some((r) => r.status().ok);
    const ok = store_.ok && Object.values(apps).every((a) => a.ok);
    // One app's (or platform's) outage shows here, in metrics and alerts; it takes no replica out of service.
    return { status: store_.ok && connected ? 200 : 503, body: { ok, checks } };
  });
  http.route('GET', '/metrics', async (req) => {
    if (config.metricsToken && !bearerMatches(req.headers.authorization, config.metricsToken)) {
      return { status: 401, body: { error: 'a bearer token is required' }, headers: { 'www-authenticate': 'Bearer' } };
    }
    return { status: 200, body: await metrics.text(), contentType: metrics.registry.contentType };
  });
  const api = config.apiToken
    ? apiRoutes(http, { token: config.apiToken, store, commands, owner: replicas.owner, publicUrl: () => commands.settings.publicUrl ?? '', logger: log })
    : undefined;
  o.routes?.(http);

  let url: string;
  try {
    url = await http.listen(config.http.host, config.http.port);
    // Unless PUBLIC_URL says otherwise, scripts are shown the address the server is bound to (its real port, when HTTP_PORT=0).
    commands.settings.publicUrl ??= url;
  } catch (e) {
    await store.close();
    throw new TaskbotError(
      'CONFIG_INVALID',
      `cannot listen on ${config.http.host}:${config.http.port}: ${e instanceof Error ? e.message : String(e)} (set HTTP_HOST / HTTP_PORT)`,
      {},
      { cause: e },
    );
  }
  clock.start();
  await replicas.start();
  engine.start();
  digests.start();
  inbox.start();
  // Hourly: expired dedupe keys go, and past RETENTION_DAYS ended cards that owe nothing (with tasks no card shows) and forms.
  const sweep = setInterval(() => {
    store.purgeExpired(clock.now()).catch((e) => log.warn({ err: e }, 'dedupe sweep failed'));
    const before = clock.now() - config.retentionDays * 86_400_000;
    store.retention
      .prune(before)
      .then((n) => n.cards + n.tasks + n.forms > 0 && log.info(n, 'pruned ended cards, tasks and forms past the retention period'))
      .catch((e) => log.warn({ err: e }, 'retention sweep failed'));
  }, o.sweepMs ?? 3600_000);
  sweep.unref();

  // Every app refused (bad credentials): nothing left to serve, the operator must act.
  const refused: TaskbotError[] = [];
  let allRefused!: (e: TaskbotError) => void;
  const fatal = new Promise<TaskbotError>((r) => (allRefused = r));
  const onFatal = (e: TaskbotError) => {
    refused.push(e);
    if (refused.length < runtimes.length) return;
    // One line for the operator: each app's refusal names its own settings.
    allRefused(refused.length === 1 ? e : new TaskbotError(e.code, refused.map((r) => r.message).join('; '), e.details));
  };
  for (const app of services.apps.values()) {
    const port = inboundPort(inbound, { id: app.config.id, platform: app.platform });
    runtimes.push(
      app.platform === 'feishu'
        ? startFeishu({ config: app.config, api: app.api, http, port, logger: log, onFatal, ...(o.reconnect && { reconnect: o.reconnect }) })
        : startDingtalk({ config: app.config, api: app.api, port, logger: log, onFatal, ...(o.stream && { stream: o.stream }) }),
    );
  }
  const connections = logConnections(runtimes, log);
  log.info({ url, apps: runtimes.map((r) => `${r.app} (${r.platform})`), replica: replicas.owner }, 'taskbot is running');

  return {
    url,
    store,
    engine,
    services,
    metrics,
    fatal,
    apps: () => Object.fromEntries(runtimes.map((r) => [r.app, { ...r.status(), platform: r.platform }])),
    async stop() {
      clearInterval(sweep);
      connections.stop();
      for (const r of runtimes) r.stop();
      // Requests and commands in flight finish first; then the loops; the store closes last.
      await stopWithin(o.shutdownMs ?? SHUTDOWN_DEADLINE_MS, clock, log, [
        ['HTTP requests in flight', () => http.close(HTTP_GRACE_MS)],
        // Cut off unanswered: their Idempotency-Keys are retryable at once.
        ['script requests left', async () => api?.stop()],
        ['commands in flight', () => queue.drain()],
        // Not answered in time: kept in the store for another replica, or the next start.
        [
          'commands left',
          () => {
            queue.clear();
            return inbox.stop();
          },
        ],
        ['watching and digests', () => Promise.all([engine.stop(), digests.stop()])],
        [
          'replica count',
          () => {
            clock.stop();
            return replicas.stop();
          },
        ],
        ['store', () => store.close()],
      ]);
      log.info('taskbot stopped');
    },
  };
}

/** An app as /readyz shows it (DESIGN §8). */
function appCheck(r: PlatformRuntime): { ok: boolean; platform: Platform; state: 'connected' | 'connecting' | 'failed'; reason?: string } {
  const st = r.status();
  const state = st.state === 'reconnecting' ? 'connecting' : st.state;
  return { ok: st.ok, platform: r.platform, state, ...(st.error && { reason: st.error }) };
}

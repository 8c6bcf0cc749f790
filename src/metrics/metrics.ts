import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { AppLabel, Telemetry } from '../domain/telemetry.js';
import { withDeadline } from '../domain/deadline.js';

/** How long a scrape waits for the store's counts. */
const STORE_READ_MS = 1000;

/** What the gauges read when /metrics is scraped. */
export interface MetricSources {
  activeCards(): Promise<number>;
  activeTasks(): Promise<number>;
  queueDepth(): number;
  /** Each app's event connection. */
  apps(): (AppLabel & { connected: boolean })[];
  /** Whether the store took this replica's last write (its heartbeat). */
  storeUp(): boolean;
  /** Replicas on this store as this one counts them (itself included). */
  replicas(): number;
  /** Card writes waiting for the admin, per app and code. */
  needsAdmin(): (AppLabel & { code: string })[];
}

/**
 * Prometheus metrics for GET /metrics; one registry per bot (tests run several). Things that
 * happen are Counters (fed through Telemetry); states are Gauges read at scrape time.
 */
export class Metrics implements Telemetry {
  readonly registry = new Registry();
  private readonly events = this.counter('taskbot_events_total', 'Inbound platform events, by app, platform and type', ['app', 'platform', 'type']);
  private readonly commands = this.counter('taskbot_commands_total', 'Commands answered, by command and outcome', ['command', 'outcome']);
  private readonly upstream = this.counter(
    'taskbot_upstream_calls_total',
    'Upstream API call attempts, by app, platform, API, outcome (ok or error code) and whether it was a retry',
    ['app', 'platform', 'api', 'outcome', 'retried'],
  );
  private readonly cards = this.counter('taskbot_card_writes_total', 'Cards sent, updated and digests posted, by app, platform, operation and outcome', [
    'app',
    'platform',
    'op',
    'outcome',
  ]);
  private readonly waits = this.counter('taskbot_rate_limit_waits_total', 'Calls held back by our own rate limiters, by app, platform and limiter', [
    'app',
    'platform',
    'limiter',
  ]);
  private readonly digests = this.counter('taskbot_digest_runs_total', 'Scheduled digest runs, by outcome', ['outcome']);

  constructor(sources: MetricSources) {
    collectDefaultMetrics({ register: this.registry, prefix: 'taskbot_' });
    // Gauges named like counters (promtool check metrics refuses them); each is the sum of its labelled twin.
    for (const n of ['active_handles', 'active_requests', 'active_resources']) this.registry.removeSingleMetric(`taskbot_nodejs_${n}_total`);
    const gauge = (name: string, help: string, read: (g: Gauge) => void | Promise<void>, labelNames: string[] = []) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: [this.registry],
        collect() {
          return read(this);
        },
      });
    // Read from the store: when it does not answer in time, the last value stands (a scrape never waits on a silent database).
    const fromStore = (read: () => Promise<number>) => async (g: Gauge) => {
      await withDeadline(read(), STORE_READ_MS).then(
        (n) => g.set(n),
        () => undefined,
      );
    };
    gauge(
      'taskbot_active_cards',
      'Cards being kept up to date',
      fromStore(() => sources.activeCards()),
    );
    gauge(
      'taskbot_active_tasks',
      'Distinct upstream tasks being polled',
      fromStore(() => sources.activeTasks()),
    );
    gauge('taskbot_work_queue_depth', 'Inbound commands waiting or running', (g) => g.set(sources.queueDepth()));
    gauge(
      'taskbot_platform_connected',
      "1 while an app's event connection is up, by app and platform",
      (g) => {
        for (const a of sources.apps()) g.set({ app: a.app, platform: a.platform }, a.connected ? 1 : 0);
      },
      ['app', 'platform'],
    );
    gauge(
      'taskbot_needs_admin',
      "1 while an app's card writes wait for its admin (a scope, an authorisation, a quota), by app, platform and code",
      (g) => {
        g.reset();
        for (const a of sources.needsAdmin()) g.set({ app: a.app, platform: a.platform, code: a.code }, 1);
      },
      ['app', 'platform', 'code'],
    );
    gauge('taskbot_replicas', 'Replicas sharing the store and the platform limits, as this replica counts them', (g) => g.set(sources.replicas()));
    gauge('taskbot_store_up', '1 while the store takes writes (the last heartbeat went through within its deadline)', (g) => g.set(sources.storeUp() ? 1 : 0));
  }

  private counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  event(a: AppLabel, type: string): void {
    this.events.inc({ app: a.app, platform: a.platform, type });
  }
  command(command: string, outcome: string): void {
    this.commands.inc({ command, outcome });
  }
  upstreamCall(a: AppLabel, api: string, outcome: string, retried: boolean): void {
    this.upstream.inc({ app: a.app, platform: a.platform, api, outcome, retried: String(retried) });
  }
  cardWrite(a: AppLabel, op: string, outcome: string): void {
    this.cards.inc({ app: a.app, platform: a.platform, op, outcome });
  }
  rateLimitWait(a: AppLabel, limiter: string): void {
    this.waits.inc({ app: a.app, platform: a.platform, limiter });
  }
  digestRun(outcome: string): void {
    this.digests.inc({ outcome });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics for GET /metrics; one registry per bot (tests run several). */
export class Metrics {
  readonly registry = new Registry();
  readonly events = new Counter({ name: 'taskbot_events_total', help: 'Inbound events by platform and kind', labelNames: ['platform', 'kind'] as const, registers: [this.registry] });
  readonly commands = new Counter({ name: 'taskbot_commands_total', help: 'Commands answered', labelNames: ['platform'] as const, registers: [this.registry] });

  constructor(sources: { activeCards: () => Promise<number>; watch: () => { fetches: number; updates: number } }) {
    collectDefaultMetrics({ register: this.registry, prefix: 'taskbot_' });
    new Gauge({
      name: 'taskbot_active_cards',
      help: 'Cards being kept up to date',
      registers: [this.registry],
      async collect() {
        this.set(await sources.activeCards());
      },
    });
    new Gauge({ name: 'taskbot_upstream_fetches', help: 'Task polls since start', registers: [this.registry], collect() { this.set(sources.watch().fetches); } });
    new Gauge({ name: 'taskbot_card_updates', help: 'Card updates sent since start', registers: [this.registry], collect() { this.set(sources.watch().updates); } });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

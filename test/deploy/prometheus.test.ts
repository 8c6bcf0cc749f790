import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bot } from '../../src/app/bot.js';
import { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import { startTestBot, until } from '../helpers/bot.js';
import { feishuEnv } from '../helpers/env.js';

const ROOT = join(import.meta.dirname, '../..');
const RULES = join(ROOT, 'deploy/prometheus/taskbot-rules.yml');
const DASHBOARD = join(ROOT, 'deploy/grafana/taskbot.json');
/** Debian's `prometheus` package; .ci/run installs it. */
const PROMTOOL = '/usr/bin/promtool';

/** The taskbot metric names an expression reads (a counter's `_total` is part of its name). */
const metricNames = (text: string) => new Set(text.match(/\btaskbot_[a-z0-9_]+/g) ?? []);

describe('observability as files: alert rules, dashboard and a real scrape', () => {
  let fake: FakeFeishu;
  let bot: Bot;
  let scrape = '';

  beforeAll(async () => {
    fake = new FakeFeishu();
    await fake.listen();
    ({ bot } = await startTestBot(feishuEnv(fake)));
    // Something of every kind happens, so that labelled series exist.
    fake.addTask({ id: 'c0ffee00c0ffee00c0ffee00c0ffee00', kind: 'contact', total: 2, outcome: 'succeeded', queuedSteps: 0, runningSteps: 1 });
    const said = fake.say('oc_metrics', 'status c0ffee00c0ffee00c0ffee00c0ffee00');
    await fake.gateway.push(said.event);
    await until('the reply', () => [...fake.im.messages.values()].find((m) => m.reply_to === said.messageId));
    scrape = await (await fetch(`${bot.url}/metrics`)).text();
  });
  afterAll(async () => {
    await bot?.stop();
    await fake?.close();
  });

  it('every metric the alert rules and the dashboard query exists in a real scrape', () => {
    const exposed = new Set([...scrape.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: { targets?: { expr: string }[] }[] };
    const queried = new Set([
      ...metricNames(readFileSync(RULES, 'utf8')),
      ...dashboard.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => [...metricNames(t.expr)])),
    ]);
    expect(queried.size).toBeGreaterThan(10);
    expect([...queried].filter((m) => !exposed.has(m))).toEqual([]);
  });

  it('the dashboard shows commands and answers, upstream calls, card writes and the queue, limit waits, connections, replicas and the store', () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { uid: string; panels: { type: string; targets?: { expr: string }[] }[] };
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join('\n');
    for (const m of [
      'taskbot_commands_total',
      'taskbot_upstream_calls_total',
      'taskbot_card_writes_total',
      'taskbot_work_queue_depth',
      'taskbot_rate_limit_waits_total',
      'taskbot_platform_connected',
      'taskbot_replicas',
      'taskbot_store_up',
    ]) {
      expect(exprs).toContain(m);
    }
    expect(dashboard.uid).toBe('taskbot');
  });

  it('the dashboard has an app variable, and every query of a metric labelled by app is filtered by it (DESIGN §8)', () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
      templating: { list: { name: string; query?: { query: string } }[] };
      panels: { targets?: { expr: string }[] }[];
    };
    expect(dashboard.templating.list.find((v) => v.name === 'app')?.query?.query).toMatch(/^label_values\(taskbot_\w+\{job=~"\$job"\}, app\)$/);
    // The metrics a real scrape labels with `app`.
    const byApp = new Set([...scrape.matchAll(/^(taskbot_\w+)\{[^}]*\bapp="/gm)].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, '')));
    expect(byApp.size).toBeGreaterThanOrEqual(4);
    const selectors = dashboard.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => [...t.expr.matchAll(/(taskbot_\w+)\{([^}]*)\}/g)]));
    const unfiltered = selectors.filter(([, name, labels]) => byApp.has(name!) && !labels!.includes('app=~"$app"')).map(([s]) => s);
    expect(unfiltered).toEqual([]);
  });

  describe.runIf(existsSync(PROMTOOL))('promtool', () => {
    it('a scrape passes promtool check metrics', () => {
      const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: scrape, encoding: 'utf8' });
      expect(r.stdout + r.stderr).toBe('');
      expect(r.status).toBe(0);
    });

    it('the rules pass promtool check rules, and promtool test rules shows each alert firing when it should and not before', () => {
      expect(execFileSync(PROMTOOL, ['check', 'rules', RULES], { encoding: 'utf8' })).toContain('SUCCESS: 10 rules found');
      const r = spawnSync(PROMTOOL, ['test', 'rules', 'taskbot-rules.test.yml'], { cwd: join(ROOT, 'deploy/prometheus'), encoding: 'utf8' });
      expect(r.stdout + r.stderr).toContain('SUCCESS');
      expect(r.status).toBe(0);
    });
  });
});

/**
 * `npm run bench -- burst-apps`: two Feishu apps at once, each with its own app-wide write limit
 * (1000/min, 50/s, enforced by its own fake), each with 3,000 cards whose tasks all end at the
 * start. Each app's finals must go out at its own limit, with no 429, and neither app's cards wait
 * for the other's: each drains as if alone. Time runs SCALE times faster for everyone (bot, fakes,
 * limits), as in the burst benchmark.
 */
import { feishuCardText } from '../src/cards/feishu.js';
import { taskCard } from '../src/cards/task-card.js';
import { FakeFeishu } from '../src/sandbox/fake-feishu.js';
import { mapLimit } from '../src/watch/map-limit.js';
import { request } from 'undici';
import { appsFile, freshDatabase, serveProcess, startBenchBot, type Served } from './bot.js';
import { startFakes } from './fakes.js';
import { ScaledClock } from './burst.js';
import { round, sleep, type BenchResult } from './stats.js';

const SCALE = 6;
const PER_MINUTE = 1000;
const TASKS = 100;
const CARDS_PER_TASK = 30;

export async function benchBurstApps(): Promise<BenchResult> {
  const clock = new ScaledClock(SCALE);
  const ids = ['north', 'south'] as const;
  const fakes = [new FakeFeishu(undefined, undefined, () => clock.now()), new FakeFeishu('cli_b1b2c3d4e5f60719', 'south-secret', () => clock.now())];
  await Promise.all(fakes.map((f) => f.listen()));
  fakes[1]!.im.idPrefix = 'om_south';
  for (const f of fakes) {
    f.im.enforceLimits = true;
    f.im.historyLimit = 1;
  }
  const apps = ids.map((id, i) => ({ id, platform: 'feishu', appId: fakes[i]!.appId, appSecret: fakes[i]!.appSecret, domain: fakes[i]!.baseUrl }));
  const bot = await startBenchBot({ APPS_FILE: appsFile(apps) }, { clock });
  await Promise.all(fakes.map((f) => f.gateway.waitForConnection()));

  const taskId = (i: number) => `c1${i.toString(16).padStart(30, '0')}`;
  const t0 = clock.now() + 60_000;
  const writes = ids.map(() => [] as number[]);
  const finals = ids.map(() => new Map<string, number>());
  const seeded = ids.map(() => new Set<string>());
  for (const [a, app] of ids.entries()) {
    const fake = fakes[a]!;
    const scripts = Array.from({ length: TASKS }, (_, i) =>
      fake.addTask({ id: taskId(i), kind: 'contact', total: 100, outcome: 'succeeded', queuedSteps: 0, runningSteps: 1, advance: 1000 }),
    );
    for (const s of scripts) s.createdAt = t0;
    const snaps = await mapLimit(
      Array.from({ length: TASKS }, (_, i) => i),
      8,
      (i) => bot.services.registry.fetchRef({ app, platform: 'feishu', kind: 'contact', id: taskId(i) }),
    );
    for (const [i, snap] of snaps.entries()) {
      const model = taskCard(snap, { locale: 'en', timeZone: 'Asia/Shanghai', mode: 'live' });
      const rendered = feishuCardText(model);
      for (let c = 0; c < CARDS_PER_TASK; c++) {
        const chatId = `oc_${app}_${(i * CARDS_PER_TASK + c) % 600}`;
        const handle = fake.im.seed(chatId, JSON.parse(rendered) as Record<string, unknown>);
        seeded[a]!.add(handle);
        await bot.engine.cards.track({ app, platform: 'feishu', chatId, handle }, snap, 'en', model);
      }
    }
    fake.im.listeners.add((m, kind) => {
      if (kind !== 'patched' || !seeded[a]!.has(m.message_id)) return;
      writes[a]!.push(clock.now());
      if (!JSON.stringify(m.card).includes('"button"')) finals[a]!.set(m.message_id, clock.now());
    });
  }
  clock.skip(t0 - clock.now());
  const cards = TASKS * CARDS_PER_TASK;
  const deadline = t0 + 3 * (cards / PER_MINUTE) * 60_000;
  while (finals.some((f) => f.size < cards) && clock.now() < deadline) await clock.sleep(1000);
  const violations = fakes.map((f) => f.im.limitViolations);
  await bot.stop();
  await Promise.all(fakes.map((f) => f.close()));

  const figures: Record<string, number> = { apps: ids.length, cards_per_app: cards, time_scale: SCALE };
  let pass = true;
  for (const [a, app] of ids.entries()) {
    const last = Math.max(...finals[a]!.values());
    // From the first write to the last final: the app had a backlog all along (every task ended at the start).
    const first = Math.min(...writes[a]!);
    const perMinute = (writes[a]!.filter((t) => t <= last).length / (last - first)) * 60_000;
    // Alone, the app could not have drained faster than its own limit allows.
    const aloneS = (writes[a]!.filter((t) => t <= last).length / PER_MINUTE) * 60;
    figures[`${app}_finals`] = finals[a]!.size;
    figures[`${app}_writes_per_limit`] = round(perMinute / PER_MINUTE, 3);
    figures[`${app}_drain_s`] = round((last - t0) / 1000);
    figures[`${app}_drain_vs_alone`] = round((last - t0) / 1000 / aloneS, 3);
    figures[`${app}_rate_limit_answers`] = violations[a]!;
    pass &&= finals[a]!.size === cards && perMinute / PER_MINUTE >= 0.95 && violations[a] === 0;
  }
  return {
    name: 'burst-apps',
    figures,
    targets: { north_writes_per_limit: '≥ 0.95', south_writes_per_limit: '≥ 0.95', north_rate_limit_answers: '0', south_rate_limit_answers: '0' },
    pass,
  };
}

/**
 * `npm run bench -- burst-apps-replicas`: the same on three `taskbot serve` processes sharing one
 * PostgreSQL database, in real time, against the two fakes in a process of their own. Each app's
 * 1,000 cards are posted through the replicas' script API (once they count each other), their
 * tasks move and end together, and each app's finals are drained by the three replicas, whichever
 * saw its tasks end: its patches per minute from the end until the last, against 1000/min; no
 * 429. What the app's minute held at the end (posts, progress) is reported beside it: the drain
 * cannot use what those took.
 */
export async function benchBurstAppsReplicas(): Promise<BenchResult> {
  const CARDS = 1000;
  const fakes = await startFakes(2);
  const db = await freshDatabase();
  const replicas: Served[] = [];
  try {
    const ids = ['north', 'south'] as const;
    const apps = ids.map((id, i) => ({ id, ...fakes.apps.feishu[i]! }));
    for (const a of apps) await control(a.url, '/_fake/config', { enforceLimits: true });
    const file = appsFile(apps.map((a) => ({ id: a.id, platform: 'feishu', appId: a.appId, appSecret: a.appSecret, domain: a.url })));
    const token = 'bench-token-0123456789abcdef';
    for (let r = 0; r < 3; r++) replicas.push(serveProcess({ DATABASE_URL: db.url, APPS_FILE: file, API_TOKEN: token }));
    const urls = await Promise.all(replicas.map((r) => r.url));
    // Steady state: each replica counts the others (and takes its third of each app's limits) before the cards come.
    for (const url of urls) {
      for (;;) {
        const ready = (await (await request(`${url}/readyz`)).body.json()) as { checks: { replicas: { count: number } } };
        if (ready.checks.replicas.count === 3) break;
        await sleep(200);
      }
    }
    // The tasks end together, once every card is posted (posting 1,000 cards an app takes a minute at its limit).
    const endsAt = Date.now() + 100_000;
    const taskId = (i: number) => `c2${i.toString(16).padStart(30, '0')}`;
    for (const a of apps) {
      const scripts = Array.from({ length: CARDS / 10 }, (_, i) => ({
        id: taskId(i),
        kind: 'contact',
        total: 50,
        outcome: 'succeeded',
        queuedSteps: 0,
        // Moving every 2 s until they end together: polled often, so the ends are seen at once and the finals queue up.
        runningSteps: 50,
        advance: (endsAt - Date.now()) / 50,
      }));
      await control(a.url, '/_fake/tasks', scripts);
    }
    const posted = await Promise.all(
      apps.map((a) =>
        mapLimit(
          Array.from({ length: CARDS }, (_, k) => k),
          16,
          async (k) => {
            const res = await request(`${urls[k % 3]}/api/v1/watches`, {
              method: 'POST',
              headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
              body: JSON.stringify({ platform: 'feishu', app: a.id, chatId: `oc_${a.id}_${k % 300}`, taskId: taskId(Math.floor(k / 10)) }),
            });
            await res.body.text();
            return res.statusCode;
          },
        ),
      ),
    );
    type Stats = { requests: Record<string, number>; limitViolations: number; minuteWrites: number };
    const stats = async (url: string) => (await (await request(`${url}/_fake/stats`)).body.json()) as Stats;
    const patches = (st: Stats) =>
      Object.entries(st.requests)
        .filter(([p]) => /^\/open-apis\/im\/v1\/messages\/[^/]+$/.test(p))
        .reduce((n, [, c]) => n + c, 0);
    // Patches per app, second by second, from the end of the tasks until no more go out; and what the app's minute held at the end.
    while (Date.now() < endsAt) await sleep(50);
    const atEnd = await Promise.all(apps.map((a) => stats(a.url)));
    const series = apps.map((_, i) => [{ at: Date.now(), n: patches(atEnd[i]!) }]);
    const polls = (st: Stats) => st.requests['/open-apis/contact/v2/task/get'] ?? 0;
    const pollSeries = apps.map((_, i) => [polls(atEnd[i]!)]);
    for (let quiet = 0; quiet < 10 && Date.now() < endsAt + 5 * 60_000; ) {
      await sleep(1000);
      const now = Date.now();
      const sts = await Promise.all(apps.map((a) => stats(a.url)));
      for (const [i, st] of sts.entries()) {
        series[i]!.push({ at: now, n: patches(st) });
        pollSeries[i]!.push(polls(st));
      }
      quiet = series.every((s) => s.at(-1)!.n === s.at(-2)!.n) ? quiet + 1 : 0;
    }
    if (process.env.BENCH_DEBUG) for (const s of series) console.log(s.map((p, j) => (j ? p.n - s[j - 1]!.n : 0)).join(' '));
    if (process.env.BENCH_DEBUG) for (const s of pollSeries) console.log('polls', s.map((p, j) => (j ? p - s[j - 1]! : 0)).join(' '));
    const after = await Promise.all(apps.map((a) => stats(a.url)));
    const figures: Record<string, number> = { replicas: 3, cards_per_app: CARDS };
    let pass = true;
    for (const [i, a] of apps.entries()) {
      const s = series[i]!;
      const start = s[0]!;
      // The drain: until the last second a patch went out.
      const last = s.findLast((p, j) => j > 0 && p.n > s[j - 1]!.n) ?? start;
      const sent = last.n - start.n;
      const perMinute = last.at > start.at ? (sent / (last.at - start.at)) * 60_000 : 0;
      figures[`${a.id}_posted_201`] = posted[i]!.filter((c) => c === 201).length;
      figures[`${a.id}_patches_after_end`] = sent;
      figures[`${a.id}_minute_held_at_end`] = atEnd[i]!.minuteWrites;
      figures[`${a.id}_drain_s`] = round((last.at - start.at) / 1000);
      figures[`${a.id}_writes_per_limit`] = round(perMinute / PER_MINUTE, 3);
      figures[`${a.id}_rate_limit_answers`] = after[i]!.limitViolations;
      pass &&= sent >= CARDS && perMinute / PER_MINUTE >= 0.95 && after[i]!.limitViolations === 0;
    }
    return {
      name: 'burst-apps-replicas',
      figures,
      targets: { north_writes_per_limit: '≥ 0.95', south_writes_per_limit: '≥ 0.95', north_rate_limit_answers: '0', south_rate_limit_answers: '0' },
      pass,
    };
  } finally {
    for (const r of replicas) r.child.kill('SIGKILL');
    await fakes.stop();
    await db.drop();
  }
}

async function control(url: string, path: string, body: unknown): Promise<void> {
  const r = await request(`${url}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  await r.body.text();
}

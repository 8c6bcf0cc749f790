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
import { appsFile, startBenchBot } from './bot.js';
import { ScaledClock } from './burst.js';
import { round, type BenchResult } from './stats.js';

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

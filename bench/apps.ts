/**
 * `npm run bench -- apps`: several apps in one taskbot (DESIGN §8). For 1, 2, 5, 10 and 20 apps
 * (half Feishu over the long connection, half DingTalk over Stream, each against its own fake),
 * a fresh process starts the bot and reports how long until every app is connected and its
 * resident memory once settled. Targets: 20 apps connected within 10 s; at most 3 MB more per app
 * beyond the first of each platform.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startFakes, type FakesProcess } from './fakes.js';
import { appsFile, startBenchBot } from './bot.js';
import { round, sleep, type BenchResult } from './stats.js';
import { tuneRuntime } from '../src/runtime-flags.js';

const COUNTS = [1, 2, 5, 10, 20];

interface Measured {
  apps: number;
  connectMs: number;
  rssMb: number;
  heapMb: number;
}

export async function benchApps(): Promise<BenchResult> {
  const fakes = await startFakes(10);
  const measured: Measured[] = [];
  try {
    for (const n of COUNTS) measured.push(await inChild(fakes, n));
  } finally {
    await fakes.stop();
  }
  const at = (n: number) => measured.find((m) => m.apps === n)!;
  // Beyond the first app of each platform: from 2 apps (one of each) to 20.
  const perApp = (at(20).rssMb - at(2).rssMb) / 18;
  const figures: Record<string, number> = {};
  for (const m of measured) {
    figures[`rss_mb_${m.apps}_apps`] = round(m.rssMb);
    figures[`heap_mb_${m.apps}_apps`] = round(m.heapMb);
    figures[`connected_s_${m.apps}_apps`] = round(m.connectMs / 1000, 2);
  }
  figures.rss_mb_per_app_beyond_first = round(perApp, 2);
  figures.heap_mb_per_app_beyond_first = round((at(20).heapMb - at(2).heapMb) / 18, 2);
  return {
    name: 'apps',
    figures,
    targets: { connected_s_20_apps: '< 10', rss_mb_per_app_beyond_first: '<= 3' },
    pass: at(20).connectMs < 10_000 && perApp <= 3,
  };
}

/** `n` apps (Feishu first, alternating) in a node process of their own, this one's flags included. */
async function inChild(fakes: FakesProcess, n: number): Promise<Measured> {
  const apps = Array.from({ length: n }, (_, i) => {
    const k = Math.floor(i / 2);
    if (i % 2 === 0) {
      const f = fakes.apps.feishu[k]!;
      return { id: `f${k}`, platform: 'feishu', appId: f.appId, appSecret: f.appSecret, domain: f.url };
    }
    const d = fakes.apps.dingtalk[k]!;
    return { id: `d${k}`, platform: 'dingtalk', clientId: d.clientId, clientSecret: d.clientSecret, apiBase: d.url, oapiBase: d.url, cardTemplateId: 'tpl' };
  });
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), appsFile(apps)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`apps benchmark with ${n} apps exited with ${code}`);
  return { apps: n, ...(JSON.parse(out) as Omit<Measured, 'apps'>) };
}

/** The child: the bot with the apps of `file`, connected, settled, measured. */
async function measure(file: string): Promise<void> {
  tuneRuntime(); // as `taskbot serve` runs
  const t0 = performance.now();
  const bot = await startBenchBot({ APPS_FILE: file });
  for (;;) {
    const all = Object.values(bot.apps());
    if (all.length > 0 && all.every((a) => a.ok)) break;
    if (performance.now() - t0 > 60_000) throw new Error('apps never all connected');
    await sleep(20);
  }
  const connectMs = performance.now() - t0;
  // Settled: start-up garbage collected, connections idle.
  await sleep(2000);
  globalThis.gc?.();
  await sleep(200);
  const { rss, heapUsed } = process.memoryUsage();
  process.stdout.write(JSON.stringify({ connectMs, rssMb: rss / 1024 / 1024, heapMb: heapUsed / 1024 / 1024 }));
  await bot.stop();
  process.exit(0);
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2]) await measure(process.argv[2]);

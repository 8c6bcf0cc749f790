/**
 * Watch scale: 10,000 cards over 1,000 tasks progressing on the fake Feishu, with the real
 * API client over loopback (the fakes run in a child process), the SQLite store and the real clock. Prints upstream fetches
 * against the ideal (one per distinct due task per round), card updates against visible
 * changes, peak RSS and event-loop delay p99.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { CardModel } from '../src/domain/card.js';
import { cardHash, taskCard } from '../src/cards/task-card.js';
import type { CardHandle, ChatRef, Messenger } from '../src/domain/chat.js';
import { snapshotFingerprint } from '../src/domain/snapshot-json.js';
import { refKey, type TaskRef, type TaskSnapshot } from '../src/domain/task.js';
import { FeishuApi } from '../src/platforms/feishu/api-client.js';
import { FeishuContactProvider } from '../src/providers/feishu-contact.js';
import { FeishuDriveProvider } from '../src/providers/feishu-drive.js';
import { TaskRegistry } from '../src/providers/registry.js';
import { openStore } from '../src/store/open.js';
import { WatchEngine } from '../src/watch/engine.js';
import { startFakes } from './fakes.js';
import type { BenchResult } from './stats.js';

class CountingMessenger implements Messenger {
  readonly dedupesRepeats = true;
  updates = 0;
  /** Updates that showed nothing new on their card (the same content as its last one). */
  unchanged = 0;
  private readonly last = new Map<string, string>();
  private n = 0;
  async send(chat: ChatRef): Promise<CardHandle> {
    return { ...chat, handle: `om_${++this.n}` };
  }
  async update(h: CardHandle, c: CardModel): Promise<void> {
    this.updates++;
    const hash = cardHash(c);
    if (this.last.get(h.handle) === hash) this.unchanged++;
    this.last.set(h.handle, hash);
  }
  async sendDigest(): Promise<void> {}
  async mention(): Promise<void> {}
}

export async function benchWatch(
  opts: { tasks?: number; cardsPerTask?: number; stepMs?: number; items?: number; storeUrl?: string } = {},
): Promise<BenchResult> {
  // What the process costs before any work: Node plus the loaded modules (the Feishu SDK alone is ~34 MB on Node 20, ~47 on 24).
  const baselineRss = process.memoryUsage().rss;
  const TASKS = opts.tasks ?? 1000;
  const CARDS_PER_TASK = opts.cardsPerTask ?? 10;
  const STEP_MS = opts.stepMs ?? 3000;
  // Sub-tasks per contact task: each finished task's answer lists them all (task_info).
  const ITEMS = opts.items ?? 200;
  const fakes = await startFakes();
  const api = new FeishuApi({ appId: fakes.feishuApp[0], appSecret: fakes.feishuApp[1], domain: fakes.feishu, timeoutMs: 10_000 });
  const registry = new TaskRegistry({ feishu: [new FeishuContactProvider(api), new FeishuDriveProvider(api)] });

  // Each fetched snapshot, per task, to count visible changes independently of the engine.
  const seen = new Map<string, string>();
  let visibleChanges = 0;
  const observed = {
    fetchRef: async (ref: TaskRef): Promise<TaskSnapshot> => {
      const s = await registry.fetchRef(ref);
      const fp = snapshotFingerprint(s);
      const key = refKey(ref);
      if (seen.get(key) !== fp) visibleChanges += CARDS_PER_TASK;
      seen.set(key, fp);
      return s;
    },
  };

  const storeUrl = opts.storeUrl ?? `sqlite:${join(mkdtempSync(join(tmpdir(), 'taskbot-bench-')), 'bench.db')}`;
  const store = await openStore(storeUrl);
  const messenger = new CountingMessenger();
  // No poll budget here: this measures coalescing and diffing at full speed (freshness measures the budget).
  const engine = new WatchEngine({
    store,
    tasks: observed,
    messengers: { feishu: messenger },
    timeZone: 'Asia/Shanghai',
    options: { tickMs: 50, pollBudget: {} },
  });

  const hex = (n: number) => n.toString(16).padStart(32, '0');
  await fakes.addTasks(
    'feishu',
    Array.from({ length: TASKS }, (_, t) => ({
      id: hex(t + 1),
      kind: 'contact' as const,
      total: ITEMS,
      outcome: t % 10 === 0 ? ('partial' as const) : ('succeeded' as const),
      queuedSteps: 1,
      runningSteps: 6,
      advance: STEP_MS,
    })),
  );
  for (let t = 0; t < TASKS; t++) {
    const snap = await registry.fetchRef({ app: 'feishu', platform: 'feishu', kind: 'contact', id: hex(t + 1) });
    seen.set(refKey(snap.ref), snapshotFingerprint(snap));
    const card = taskCard(snap, { locale: 'zh', timeZone: 'Asia/Shanghai', mode: 'live' });
    cardHash(card);
    for (let c = 0; c < CARDS_PER_TASK; c++) {
      const handle = await messenger.send({ app: 'feishu', platform: 'feishu', chatId: `oc_${t}_${c}` });
      await engine.cards.track(handle, snap, 'zh', card);
    }
  }
  const initialFetches = await fakes.requests('feishu', /contact/);

  const eld = monitorEventLoopDelay({ resolution: 5 });
  const setupRss = process.memoryUsage().rss;
  let peakRss = setupRss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  eld.enable();
  const started = Date.now();
  engine.start();
  while ((await store.cards.countActive()) > 0 && Date.now() - started < 180_000) await new Promise((r) => setTimeout(r, 500));
  await engine.stop();
  eld.disable();
  clearInterval(sampler);

  const fetches = (await fakes.requests('feishu', /contact/)) - initialFetches;
  const ideal = engine.stats.claimed;
  const figures = {
    tasks: TASKS,
    cards: TASKS * CARDS_PER_TASK,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    rounds: engine.stats.rounds,
    upstream_fetches: fetches,
    ideal_fetches: ideal,
    fetch_ratio: Math.round((fetches / ideal) * 1000) / 1000,
    card_updates: messenger.updates,
    // Task changes times cards; cards also change without one (the time left moving on), so more updates than this can be right.
    task_changes_x_cards: visibleChanges,
    updates_showing_nothing_new: messenger.unchanged,
    baseline_rss_mb: Math.round(baselineRss / 1024 / 1024),
    rss_after_setup_mb: Math.round(setupRss / 1024 / 1024),
    peak_rss_mb: Math.round(peakRss / 1024 / 1024),
    event_loop_p99_ms: Math.round((eld.percentile(99) / 1e6) * 10) / 10,
  };
  await store.close();
  await fakes.stop();
  const pass = figures.fetch_ratio === 1 && figures.updates_showing_nothing_new === 0 && figures.peak_rss_mb < 200 && figures.event_loop_p99_ms < 20;
  return {
    name: 'watch',
    figures,
    targets: { fetch_ratio: '1.00', updates_showing_nothing_new: '0', peak_rss_mb: '< 200', event_loop_p99_ms: '< 20' },
    pass,
  };
}

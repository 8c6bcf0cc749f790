/**
 * `npm run bench -- growth`: what one watched card costs, as a number: the engine's retained heap
 * and the SQLite file per card at 10,000 and 50,000 cards (ten cards a task), after a few rounds
 * of polling and updating (in-process tasks on a virtual clock, so only taskbot's own memory is
 * measured; the platform SDKs' fixed cost is not per card).
 */
import { statSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { taskCard } from '../src/cards/task-card.js';
import type { CardHandle, ChatRef, Messenger } from '../src/domain/chat.js';
import type { TaskRef, TaskSnapshot } from '../src/domain/task.js';
import { openStore } from '../src/store/open.js';
import { WatchEngine } from '../src/watch/engine.js';
import { round, type BenchResult } from './stats.js';

class NullMessenger implements Messenger {
  readonly dedupesRepeats = true;
  private n = 0;
  async send(chat: ChatRef): Promise<CardHandle> {
    return { ...chat, handle: `om_${++this.n}` };
  }
  async update(): Promise<void> {}
  async sendDigest(): Promise<void> {}
  async mention(): Promise<void> {}
}

const NOISE_BYTES_PER_CARD = 64;

const heap = () => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
};

async function costAt(cards: number): Promise<{ heapPerCard: number; dbPerCard: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'taskbot-growth-'));
  const file = join(dir, 'g.db');
  const store = await openStore(`sqlite:${file}`);
  let t = Date.UTC(2026, 11, 1);
  const clock = { now: () => t, mono: () => t, sleep: () => new Promise<void>(() => undefined) };
  const source = {
    async fetchRef(ref: TaskRef): Promise<TaskSnapshot> {
      const p = Math.min(99, Math.floor((t - Date.UTC(2026, 11, 1)) / 6000));
      return { ref, state: 'running', progress: p, total: 100, succeeded: p, failed: 0, label: 'add_user', fetchedAt: new Date(t) };
    },
  };
  const messenger = new NullMessenger();
  const engine = new WatchEngine({ store, tasks: source, messengers: { feishu: messenger }, timeZone: 'UTC', clock, options: { batch: 1000, pollBudget: {} } });
  const before = heap();
  const tasks = cards / 10;
  for (let i = 0; i < tasks; i++) {
    const snap = await source.fetchRef({ app: 'feishu', platform: 'feishu', kind: 'contact', id: i.toString(16).padStart(32, '0') });
    const model = taskCard(snap, { locale: 'zh', timeZone: 'UTC', mode: 'live' });
    for (let c = 0; c < 10; c++)
      await engine.cards.track(await messenger.send({ app: 'feishu', platform: 'feishu', chatId: `oc_${i}_${c}` }), snap, 'zh', model);
  }
  // A few rounds: every task polled twice and its cards updated (a third of the bench's time per update pass at 50,000).
  for (let s = 0; s < 4; s++) {
    t += 2000;
    while ((await engine.tick()) > 0);
    await engine.flush();
  }
  const after = heap();
  await store.close();
  return { heapPerCard: Math.max(0, after - before) / cards, dbPerCard: statSync(file).size / cards };
}

export async function benchGrowth(): Promise<BenchResult> {
  const small = await costAt(10_000);
  const large = await costAt(50_000);
  const figures = {
    heap_bytes_per_card_10k: Math.round(small.heapPerCard),
    heap_bytes_per_card_50k: Math.round(large.heapPerCard),
    db_bytes_per_card_10k: Math.round(small.dbPerCard),
    db_bytes_per_card_50k: Math.round(large.dbPerCard),
    gc_exposed: (globalThis as { gc?: unknown }).gc ? 1 : 0,
    heap_growth_ratio_50k_vs_10k: round(large.heapPerCard / Math.max(1, small.heapPerCard), 2),
  };
  // Growth is linear when a card costs no more at 50,000 than at 10,000 (the store holds the state,
  // not the heap). Below 64 B a card there is no per-card heap to compare (a card's row alone is
  // ~400 B): the ratio of two figures within a forced GC's noise says nothing.
  const flat = figures.heap_bytes_per_card_50k < NOISE_BYTES_PER_CARD;
  return {
    name: 'growth',
    figures: { ...figures, heap_flat: flat ? 1 : 0 },
    targets: { heap_growth_ratio_50k_vs_10k: `≤ 1.5 (linear or better), or heap_flat (< ${NOISE_BYTES_PER_CARD} B a card at 50,000)` },
    pass: flat || figures.heap_growth_ratio_50k_vs_10k <= 1.5,
  };
}

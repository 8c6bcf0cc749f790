/**
 * `npm run bench -- freshness`: how fresh cards are per upstream call. A simulation on a virtual
 * clock: the real watch engine, store and scheduling, an in-process task source replaying 2,000
 * task timelines (30 s to 6 h, log-normal, median ~5 min; steady, bursty and stalling progress),
 * against fixed-interval pollers at 5, 10, 20, 40 and 60 s over the same timelines.
 */
import { taskCard } from '../src/cards/task-card.js';
import type { CardModel } from '../src/domain/card.js';
import type { CardHandle, ChatRef, Messenger } from '../src/domain/chat.js';
import type { Clock } from '../src/domain/clock.js';
import type { TaskRef, TaskSnapshot } from '../src/domain/task.js';
import { openStore } from '../src/store/open.js';
import { WatchEngine } from '../src/watch/engine.js';
import { percentile, round, type BenchResult } from './stats.js';

type Shape = 'steady' | 'bursty' | 'stalling';
interface Timeline {
  id: string;
  start: number;
  duration: number;
  shape: Shape;
  /** Stalling: where (share of the work) and for how long (share of the duration) it pauses. */
  stallAt: number;
}

/** Seeded, so every run replays the same 2,000 tasks. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

export function timelines(n: number, seed = 20261201): Timeline[] {
  const r = rng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const shapes: Shape[] = ['steady', 'bursty', 'stalling'];
  return Array.from({ length: n }, (_, i) => ({
    id: `t${i}`,
    start: Math.floor(r() * 300_000), // asked for over the first five minutes
    duration: Math.round(Math.min(6 * 3600_000, Math.max(30_000, 300_000 * Math.exp(1.3 * normal())))),
    shape: shapes[i % 3]!,
    stallAt: 0.2 + r() * 0.5,
  }));
}

/** Percent done at `t` (ms since the start of the simulation). */
export function progressAt(tl: Timeline, t: number): number {
  const x = (t - tl.start) / tl.duration;
  if (x <= 0) return 0;
  if (x >= 1) return 100;
  switch (tl.shape) {
    case 'steady':
      return Math.floor(x * 100);
    case 'bursty':
      return Math.floor(x * 10) * 10; // +10 % at a time
    case 'stalling': {
      // Works at a steady pace, stops for a quarter of the duration, then goes on at the same pace.
      const work = 0.75;
      const stallStart = tl.stallAt * work;
      const done = x < stallStart ? x : x < stallStart + 0.25 ? stallStart : x - 0.25;
      return Math.floor((done / work) * 100);
    }
  }
}

/** When the task's progress first reaches `k` percent (by bisection on the timeline). */
function reachedAt(tl: Timeline, k: number): number {
  let lo = tl.start;
  let hi = tl.start + tl.duration;
  while (hi - lo > 50) {
    const mid = (lo + hi) / 2;
    if (progressAt(tl, mid) >= k) hi = mid;
    else lo = mid;
  }
  return hi;
}

const THRESHOLDS = [10, 20, 30, 40, 50, 60, 70, 80, 90];

interface Outcome {
  callsPerTask: number;
  finalLagP50: number;
  finalLagP99: number;
  progressLagP50: number;
}

/** A poller that asks every `intervalMs` from the start (the card's first fetch included). */
function fixedPoller(tls: Timeline[], intervalMs: number): Outcome {
  let calls = 0;
  const finals: number[] = [];
  const progress: number[] = [];
  for (const tl of tls) {
    const polls = Math.ceil(tl.duration / intervalMs);
    calls += polls + 1;
    finals.push(polls * intervalMs - tl.duration);
    for (const k of THRESHOLDS) {
      const at = reachedAt(tl, k) - tl.start;
      progress.push(Math.ceil(at / intervalMs) * intervalMs - at);
    }
  }
  return {
    callsPerTask: calls / tls.length,
    finalLagP50: percentile(finals, 50),
    finalLagP99: percentile(finals, 99),
    progressLagP50: percentile(progress, 50),
  };
}

class SimClock implements Clock {
  t = 0;
  now() {
    return this.t;
  }
  mono() {
    return this.t;
  }
  sleep(): Promise<void> {
    return new Promise(() => undefined); // the simulation never sleeps: it jumps
  }
}

/** Records what each card showed and when (virtual time). */
class SimMessenger implements Messenger {
  readonly dedupesRepeats = true;
  readonly shown = new Map<string, { at: number; percent: number; final: boolean }[]>();
  private n = 0;
  constructor(private readonly clock: SimClock) {}
  async send(chat: ChatRef): Promise<CardHandle> {
    return { ...chat, handle: `om_${++this.n}` };
  }
  async update(h: CardHandle, card: CardModel): Promise<void> {
    const bar = card.blocks.find((b) => b.type === 'progress');
    const list = this.shown.get(h.handle) ?? [];
    list.push({ at: this.clock.t, percent: bar?.type === 'progress' ? (bar.percent ?? 0) : 0, final: card.final === true });
    this.shown.set(h.handle, list);
  }
  async sendDigest(): Promise<void> {}
  async mention(): Promise<void> {}
}

export async function benchFreshness(opts: { tasks?: number; budgetPerSecond?: number } = {}): Promise<BenchResult> {
  const started = Date.now();
  const tls = timelines(opts.tasks ?? 2000);
  const budget = opts.budgetPerSecond ?? 100;
  const byId = new Map(tls.map((t) => [t.id, t]));
  const clock = new SimClock();
  let calls = 0;
  // Background polls in each second (people's first fetches are not the budget's).
  const perSecond = new Map<number, number>();
  const poll = async (ref: TaskRef, background: boolean): Promise<TaskSnapshot> => {
    calls++;
    const sec = Math.floor(clock.t / 1000);
    if (background) perSecond.set(sec, (perSecond.get(sec) ?? 0) + 1);
    return snapshot(byId.get(ref.id)!, clock.t);
  };
  const source = { fetchRef: (ref: TaskRef) => poll(ref, true) };
  const store = await openStore('sqlite::memory:');
  const messenger = new SimMessenger(clock);
  const engine = new WatchEngine({
    store,
    tasks: source,
    messengers: { feishu: messenger },
    timeZone: 'UTC',
    clock,
    options: { batch: 500, pollBudget: { 'feishu:contact': budget } },
  });
  const handles = new Map<string, string>();
  const pending = [...tls].sort((a, b) => a.start - b.start);
  const endOfAll = Math.max(...tls.map((t) => t.start + t.duration)) + 120_000;
  let next = 0;
  while (clock.t <= endOfAll) {
    // People ask for tasks as they start: `status` fetches once and tracks the card.
    while (next < pending.length && pending[next]!.start <= clock.t) {
      const tl = pending[next++]!;
      const snap = await poll({ app: 'feishu', platform: 'feishu', kind: 'contact', id: tl.id }, false);
      const model = taskCard(snap, { locale: 'en', timeZone: 'UTC', mode: 'live' });
      const h = await messenger.send({ app: 'feishu', platform: 'feishu', chatId: `oc_${tl.id}` });
      handles.set(tl.id, h.handle);
      await engine.cards.track(h, snap, 'en', model);
    }
    while ((await engine.tick()) > 0);
    await engine.flush();
    // Jump to the next thing that happens: a task due, a task asked for, or (a second on) a queued card's turn.
    const due = await store.db
      .selectFrom('tasks')
      .select((eb) => eb.fn.min('next_due_at').as('t'))
      .where((eb) => eb.or([eb('active', '=', 1), eb('pending', '=', 1)]))
      .executeTakeFirst();
    const queued = engine.queueStats().waiting > 0 ? clock.t + 1000 : Infinity;
    const candidates = [Number(due?.t ?? Infinity), pending[next]?.start ?? Infinity, queued].filter(Number.isFinite);
    if (candidates.length === 0) break;
    clock.t = Math.max(clock.t + 1, Math.min(...candidates));
  }
  await store.close();

  const finals: number[] = [];
  const progress: number[] = [];
  let neverFinal = 0;
  for (const tl of tls) {
    const shown = messenger.shown.get(handles.get(tl.id)!) ?? [];
    const final = shown.find((s) => s.final);
    if (!final) neverFinal++;
    else finals.push(final.at - (tl.start + tl.duration));
    for (const k of THRESHOLDS) {
      const at = reachedAt(tl, k);
      const seen = shown.find((s) => s.at >= at - 1 && (s.percent >= k || s.final));
      if (seen) progress.push(Math.max(0, seen.at - at));
    }
  }
  const tb: Outcome = {
    callsPerTask: calls / tls.length,
    finalLagP50: percentile(finals, 50),
    finalLagP99: percentile(finals, 99),
    progressLagP50: percentile(progress, 50),
  };
  // The five intervals, and 2 s so that taskbot's lag is read on the curve, not past its end.
  const fixed = [2, 5, 10, 20, 40, 60].map((s) => ({ intervalS: s, ...fixedPoller(tls, s * 1000) }));
  const sameLag = fixedCallsAt(fixed, tb.finalLagP99);
  const ratio = sameLag / tb.callsPerTask;
  const peak = Math.max(...perSecond.values());
  const figures: Record<string, number> = {
    tasks: tls.length,
    taskbot_calls_per_task: round(tb.callsPerTask),
    taskbot_final_lag_p50_s: round(tb.finalLagP50 / 1000),
    taskbot_final_lag_p99_s: round(tb.finalLagP99 / 1000),
    taskbot_progress_lag_p50_s: round(tb.progressLagP50 / 1000),
    never_final: neverFinal,
    ...Object.fromEntries(
      fixed.flatMap((f) => [
        [`fixed_${f.intervalS}s_calls_per_task`, round(f.callsPerTask)],
        [`fixed_${f.intervalS}s_final_lag_p99_s`, round(f.finalLagP99 / 1000)],
        [`fixed_${f.intervalS}s_progress_lag_p50_s`, round(f.progressLagP50 / 1000)],
      ]),
    ),
    fixed_calls_at_same_final_lag_p99: round(sameLag),
    call_ratio: round(ratio, 2),
    poll_budget_per_s: budget,
    peak_polls_in_a_second: peak,
    sim_seconds: round((Date.now() - started) / 1000),
  };
  return {
    name: 'freshness',
    figures,
    targets: { call_ratio: '≥ 3', peak_polls_in_a_second: `≤ ${budget}`, never_final: '0' },
    pass: ratio >= 3 && neverFinal === 0 && peak <= budget,
  };
}

function snapshot(tl: Timeline, t: number): TaskSnapshot {
  const p = progressAt(tl, t);
  const ended = p >= 100;
  return {
    ref: { app: 'feishu', platform: 'feishu', kind: 'contact', id: tl.id },
    state: ended ? 'succeeded' : p > 0 ? 'running' : 'queued',
    progress: p,
    total: 100,
    succeeded: p,
    failed: 0,
    label: 'add_user',
    fetchedAt: new Date(t),
  };
}

/**
 * Calls per task a fixed poller needs for a final-state lag p99 of `lag`: interpolated on the
 * fixed pollers' curve (log-log), and past its ends along calls ∝ 1 / interval.
 */
export function fixedCallsAt(fixed: { callsPerTask: number; finalLagP99: number }[], lag: number): number {
  const pts = [...fixed].sort((a, b) => a.finalLagP99 - b.finalLagP99);
  const first = pts[0]!;
  const last = pts[pts.length - 1]!;
  if (lag <= first.finalLagP99) return first.callsPerTask * (first.finalLagP99 / Math.max(lag, 1));
  if (lag >= last.finalLagP99) return last.callsPerTask * (last.finalLagP99 / lag);
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1]!;
    const b = pts[i]!;
    if (lag <= b.finalLagP99) {
      const f = Math.log(lag / a.finalLagP99) / Math.log(b.finalLagP99 / a.finalLagP99);
      return Math.exp(Math.log(a.callsPerTask) + f * (Math.log(b.callsPerTask) - Math.log(a.callsPerTask)));
    }
  }
  return last.callsPerTask;
}

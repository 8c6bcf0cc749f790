import { randomUUID } from 'node:crypto';
import { SEND_LANES, type SendLane } from '../domain/chat.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { LeaseKeeper, LeaseLost } from '../domain/lease-keeper.js';
import { yieldIfBusy } from '../domain/slice.js';
import type { TaskRow } from '../store/store.js';
import { AdminAlerts } from './admin-alerts.js';
import { CardOperations } from './card-operations.js';
import { CardQueue, type QueuedCard } from './card-queue.js';
import { BUSY, type Intent } from './intent.js';
import type { InlineCard } from './card-drawing.js';
import { CardLifecycle, type Delivery } from './lifecycle.js';
import { mapLimit } from './map-limit.js';
import { FinalsAdoption } from './finals-adoption.js';
import { PollBudget } from './poll-budget.js';
import { DEFAULT_WATCH, type WatchDeps, type WatchOptions } from './watch-options.js';
import { taskPass, type PassDeps } from './task-pass.js';

/**
 * Keeps cards up to date: one poll per distinct task per due time however many cards show it,
 * claimed with a lease so replicas never poll or update the same task twice, backing off while
 * nothing changes, and updating a card only when its rendered content changed.
 */
export class WatchEngine {
  readonly owner: string;
  private readonly clock: Clock;
  private readonly o: WatchOptions;
  private running = false;
  private loop?: Promise<void>;
  private wake?: AbortController;
  private readonly life: CardLifecycle;
  /** Counters for metrics and benchmarks. */
  readonly stats = { fetches: 0, rounds: 0, claimed: 0, deferred: 0, sent: Object.fromEntries(SEND_LANES.map((l) => [l, 0])) as Record<SendLane, number> };
  private readonly budget: PollBudget;
  /** Card writes that wait for the admin, told once. */
  readonly alerts: AdminAlerts;
  /** The tasks this engine holds (rounds, queue turns, Stop, Refresh), renewed while worked and checked before each write. */
  private readonly leases: LeaseKeeper;
  /** One card queue per app (each has its own limits): rounds offer what cards owe, it sends the most valuable first. */
  private readonly queues = new Map<string, CardQueue>();
  /** What a pass over one task needs (task-pass.ts). */
  private readonly pass: PassDeps;
  /** What people and scripts do to cards: Refresh, Stop, Notify me, start watching. */
  readonly cards: CardOperations;
  /** Takes over another replica's queued finals when this one's run out (finals-adoption.ts). */
  readonly adoption: FinalsAdoption;

  constructor(private readonly d: WatchDeps) {
    const owner = d.owner ?? `engine-${randomUUID()}`;
    this.owner = owner;
    this.clock = d.clock ?? systemClock;
    this.o = { ...DEFAULT_WATCH, ...d.options };
    this.budget = d.budget ?? new PollBudget(this.o.pollBudget, d.share);
    this.alerts = new AdminAlerts(d.logger);
    this.leases = new LeaseKeeper({
      leaseMs: this.o.leaseMs,
      clock: this.clock,
      renew: (keys, until) => d.store.tasks.renew(keys, owner, until),
      what: 'tasks being worked',
      ...(d.logger && { logger: d.logger }),
    });
    this.life = new CardLifecycle({
      store: d.store,
      messengers: d.messengers,
      timeZone: d.timeZone,
      clock: this.clock,
      owner,
      alerts: this.alerts,
      ...(d.logger && { logger: d.logger }),
      onSend: (lane) => this.stats.sent[lane]++,
    });
    this.pass = {
      tasks: d.tasks,
      cards: d.store.cards,
      life: this.life,
      budget: this.budget,
      clock: this.clock,
      options: this.o,
      owner,
      stats: this.stats,
      ...(d.logger && { logger: d.logger }),
    };
    this.cards = new CardOperations({
      store: d.store,
      life: this.life,
      tasks: d.tasks,
      clock: this.clock,
      minPollMs: this.o.minPollMs,
      work: (taskKey, intent) => this.work(taskKey, intent),
      offer: (app, card) => this.queues.get(app)?.offer(card),
    });
    for (const [app, m] of Object.entries(d.messengers)) {
      const readyAt = m.readyAt?.bind(m);
      this.queues.set(
        app,
        new CardQueue((cs) => this.sendQueued(cs), this.clock, {
          concurrency: this.o.sendConcurrency,
          ...(d.share && { share: d.share }),
          ...(d.logger && { logger: d.logger }),
          ...(readyAt && { readyAt }),
        }),
      );
    }
    this.adoption = new FinalsAdoption({
      tasks: d.store.tasks,
      owner,
      clock: this.clock,
      share: d.share,
      apps: [...this.queues.keys()],
      leaseMs: this.o.leaseMs,
      concurrency: this.o.concurrency,
      leases: this.leases,
      run: (t) => this.run(t, { kind: 'round' }),
      ...(d.logger && { logger: d.logger }),
    });
  }

  /** Card updates offered to the queues and superseded by newer content before their turn. */
  queueStats(): { offered: number; superseded: number; waiting: number } {
    const all = [...this.queues.values()];
    return { offered: sum(all.map((q) => q.stats.offered)), superseded: sum(all.map((q) => q.stats.superseded)), waiting: sum(all.map((q) => q.size)) };
  }

  /** Sends every queued card update that is due now (tests and one-shot runs; the loop does it on its own). */
  async flush(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.drain()));
  }

  /** One round: claim what is due, poll each task once, update its cards. Returns how many tasks it handled. */
  async tick(): Promise<number> {
    const now = this.clock.now();
    const asked = this.clock.mono();
    // A task this engine holds already (a queue turn, a Stop) is left to that holder.
    // APIs with no poll left here this second: their watched tasks stay in the store for whoever has room.
    const full = this.budget.full(asked);
    const claimed = (await this.d.store.tasks.claimDue(this.owner, now, now + this.o.leaseMs, this.o.batch, full)).filter((t) => !this.leases.has(t.task_key));
    if (claimed.length === 0) return 0;
    this.stats.rounds++;
    this.stats.claimed += claimed.length;
    // Long rounds (slow upstreams) keep their leases alive: the keeper renews them until each is done.
    for (const t of claimed) this.leases.hold(t.task_key, asked);
    await mapLimit(claimed, this.o.concurrency, async (t) => {
      try {
        await yieldIfBusy();
        await this.run(t, { kind: 'round' });
      } catch (e) {
        if (e instanceof LeaseLost) this.d.logger?.info({ task: t.task_key }, 'lost the lease of a task mid-round; its new holder goes on');
        // A store hiccup mid-task: the lease lapses and the task is polled again later.
        else this.d.logger?.error({ err: e, task: t.task_key }, 'watch round failed for a task');
      } finally {
        this.leases.drop(t.task_key);
      }
    });
    return claimed.length;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.leases.start();
    for (const q of this.queues.values()) q.start();
    this.loop = (async () => {
      while (this.running) {
        let n = 0;
        try {
          await this.adoption.due();
          n = await this.tick();
        } catch (e) {
          // The store is unreachable: nothing is lost, the rows wait for us.
          this.d.logger?.error({ err: e }, 'watch round failed');
        }
        if (n === 0 && this.running) await this.idle(this.o.tickMs);
      }
    })();
  }

  /** Finishes the round in flight, then gives up leases so another replica can take over at once. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.abort();
    await this.loop;
    await Promise.all([...this.queues.values()].map((q) => q.stop()));
    this.leases.stop();
    await this.d.store.tasks.release(this.owner).catch((e) => this.d.logger?.warn({ err: e }, 'could not release leases'));
  }

  /** Waits between rounds; stop() cuts the wait short. */
  private async idle(ms: number): Promise<void> {
    this.wake = new AbortController();
    await this.clock.sleep(ms, this.wake.signal).catch(() => undefined);
  }

  /**
   * A queued card's turn: drawn from what the store holds now (the latest state) and sent at its
   * lane, under its task's lease like every write to the task's cards.
   */
  private async sendQueued(cards: QueuedCard[]): Promise<'done' | 'busy'> {
    const { taskKey, lane } = cards[0]!;
    const r = await this.work(taskKey, { kind: 'redraw', cards: cards.map((c) => c.key), lane, turn: true }, false);
    return r === BUSY ? 'busy' : 'done';
  }

  /**
   * Runs `intent` on the task under its lease, or (`poke`) tells the task's current holder to look
   * again soon; a lease lost midway (a pause outlived it, another holder took over) counts as held
   * by another too: the work stopped before its next write.
   */
  private async work(taskKey: string, intent: Intent, poke = true): Promise<InlineCard | undefined | typeof BUSY> {
    const now = this.clock.now();
    const asked = this.clock.mono();
    const task = this.leases.has(taskKey) ? undefined : await this.d.store.tasks.lease(taskKey, this.owner, now, now + this.o.leaseMs);
    if (!task) {
      if (poke) await this.d.store.tasks.poke(taskKey, now);
      return BUSY;
    }
    this.leases.hold(taskKey, asked);
    try {
      return await this.run(task, intent);
    } catch (e) {
      if (e instanceof LeaseLost) return BUSY;
      // Looked at again soon: a failed queue turn's cards are offered again by the task's next round.
      const next_due_at = Math.min(task.next_due_at, this.clock.now() + this.o.minPollMs);
      await this.d.store.tasks.complete(taskKey, this.owner, this.clock.now(), { next_due_at }).catch(() => undefined);
      throw e;
    } finally {
      this.leases.drop(taskKey);
    }
  }

  /**
   * One pass of `intent` over a task this engine holds, and its one write of the task's row. The
   * cards are written now at the intent's lane (Stop, a redraw) or offered to the card queue (a
   * round; a Refresh, all but the pressed card), once the pass has let the task go: before, their
   * turns would find it held.
   */
  private async run(task: TaskRow, intent: Intent): Promise<InlineCard | undefined> {
    const queue = this.queues.get(task.app);
    if (intent.kind === 'redraw' && intent.turn && task.held_by !== null && task.held_by !== this.owner) {
      // Another replica holds the task's writes now (it saw the task since, or took them over:
      // adoptQueued): they are its to send, and nothing of the task left here is. The lease goes,
      // the schedule stays.
      queue?.dropTask(task.task_key);
      await this.d.store.tasks.complete(task.task_key, this.owner, this.clock.now(), { next_due_at: task.next_due_at });
      return undefined;
    }
    const offers: QueuedCard[] = [];
    const guard = () => this.leases.guard(task.task_key);
    const how: Delivery =
      intent.kind === 'stop' || intent.kind === 'redraw'
        ? { lane: intent.kind === 'stop' ? 'people' : intent.lane, guard }
        : {
            lane: 'people',
            guard,
            ...(queue && { queue: (c: QueuedCard) => offers.push(c) }),
            ...(intent.kind === 'refresh' && { now: intent.card }),
            interested: intent.kind === 'refresh' || (task.interest_until ?? 0) > this.clock.now(),
          };
    try {
      const r = await taskPass(this.pass, task, intent, how, queue);
      await this.d.store.tasks.complete(task.task_key, this.owner, r.at, r.patch);
      return r.inline;
    } finally {
      for (const c of offers) queue?.offer(c);
    }
  }
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

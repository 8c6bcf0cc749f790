import type { Logger } from 'pino';
import { laneRank, type SendLane } from '../domain/chat.js';
import type { Clock } from '../domain/clock.js';

/** A card that owes an update: which one, not what, since it is drawn from the store when its turn comes. */
export interface QueuedCard {
  key: string;
  taskKey: string;
  lane: SendLane;
  /** When the card last changed on screen: progress goes stalest first. */
  shownAt: number;
  /** Not before this (one update a second per card). */
  notBefore: number;
  /** The rendering owed when it was offered, to count the ones superseded before their turn. */
  hash: string;
}

/** How long a card waits when its task is held by a round (which offers it again anyway). */
export const BUSY_RETRY_MS = 250;

/**
 * The card updates one app owes, most valuable first (lane, then progress stalest first): at most
 * one entry per card, so newer content replaces what had not gone out yet and a superseded
 * progress update is never sent. Its turn draws the card from the store, so it shows the latest
 * state; the platform's outbound queue (SendPacer) then keeps every limit. Held in memory: after
 * a restart the store still says what each card owes, and the next round offers it again.
 */
export class CardQueue {
  private readonly entries = new Map<string, QueuedCard>();
  private readonly inFlight = new Set<string>();
  /** Tasks with a card being sent: their other cards wait rather than race for the task's lease. */
  private readonly tasksInFlight = new Set<string>();
  private workers = 0;
  private idle: (() => void)[] = [];
  private running = false;
  private timer?: AbortController;
  readonly stats = { offered: 0, superseded: 0 };

  constructor(
    private readonly send: (c: QueuedCard) => Promise<'done' | 'busy'>,
    private readonly clock: Clock,
    private readonly concurrency = 8,
    private readonly logger?: Logger,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  offer(c: QueuedCard): void {
    this.stats.offered++;
    const old = this.entries.get(c.key);
    if (old) {
      if (old.lane === 'progress' && old.hash !== c.hash) this.stats.superseded++;
      // Keeps its place in the line (first offered), takes the higher lane.
      this.entries.set(c.key, laneRank(old.lane) < laneRank(c.lane) ? { ...c, lane: old.lane } : c);
    } else this.entries.set(c.key, c);
    if (this.running) this.spawn();
  }

  /** Sends in the background from now on (the engine's loop). */
  start(): void {
    this.running = true;
    this.spawn();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.timer?.abort();
    await this.drained();
  }

  /** Sends everything due now, `concurrency` at a time; resolves when nothing due is left. */
  async drain(): Promise<void> {
    this.spawn();
    await this.drained();
  }

  private drained(): Promise<void> {
    return this.workers === 0 ? Promise.resolve() : new Promise((r) => this.idle.push(r));
  }

  private spawn(): void {
    while (this.workers < this.concurrency && this.peek()) {
      this.workers++;
      void this.work();
    }
    if (this.running && this.workers === 0) this.wakeAtNextDue();
  }

  private async work(): Promise<void> {
    for (let c = this.take(); c; c = this.take()) {
      let outcome: 'done' | 'busy' = 'done';
      try {
        outcome = await this.send(c);
      } catch (e) {
        // A store hiccup: the card still owes it, and the task's next round offers it again.
        this.logger?.error({ err: e, card: c.key }, 'queued card update failed');
      } finally {
        this.inFlight.delete(c.key);
        this.tasksInFlight.delete(c.taskKey);
      }
      if (outcome === 'busy' && !this.entries.has(c.key)) this.entries.set(c.key, { ...c, notBefore: this.clock.now() + BUSY_RETRY_MS });
    }
    this.workers--;
    if (this.workers === 0) {
      for (const r of this.idle.splice(0)) r();
      if (this.running) this.wakeAtNextDue();
    }
  }

  /** The most valuable card due now whose task has no card being sent. */
  private peek(): QueuedCard | undefined {
    const now = this.clock.now();
    let best: QueuedCard | undefined;
    for (const c of this.entries.values()) {
      if (c.notBefore > now || this.inFlight.has(c.key) || this.tasksInFlight.has(c.taskKey)) continue;
      if (!best || laneRank(c.lane) < laneRank(best.lane) || (c.lane === 'progress' && best.lane === 'progress' && c.shownAt < best.shownAt)) best = c;
    }
    return best;
  }

  private take(): QueuedCard | undefined {
    const c = this.peek();
    if (c) {
      this.entries.delete(c.key);
      this.inFlight.add(c.key);
      this.tasksInFlight.add(c.taskKey);
    }
    return c;
  }

  /** Nothing is due: sleep until the earliest card is, or until an offer comes in. */
  private wakeAtNextDue(): void {
    let at = Infinity;
    for (const c of this.entries.values()) if (!this.inFlight.has(c.key)) at = Math.min(at, c.notBefore);
    if (at === Infinity) return;
    this.timer?.abort();
    const timer = (this.timer = new AbortController());
    void this.clock.sleep(Math.max(1, at - this.clock.now()), timer.signal).then(
      () => this.running && this.timer === timer && this.spawn(),
      () => undefined,
    );
  }
}

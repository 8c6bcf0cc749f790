import type { Logger } from 'pino';
import TinyQueue from 'tinyqueue';
import { laneRank, type SendLane } from '../domain/chat.js';
import type { Clock } from '../domain/clock.js';
import { sharedLimit, type LimitShare } from '../domain/limit-share.js';

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
/** Cards of one task taken in one turn (one lease, one read of the task for all of them). */
const MAX_BATCH = 10;

/** The entry of a card: its place in line (`seq`, from its first offer) and a version, so older heap items are skipped. */
type Entry = QueuedCard & { seq: number; v: number };
interface Item {
  key: string;
  v: number;
  rank: number;
  shownAt: number;
  seq: number;
  notBefore: number;
}

/** By lane, then progress stalest first, the rest first come first served. */
const order = (a: Item, b: Item) => a.rank - b.rank || (a.rank === PROGRESS ? a.shownAt - b.shownAt : 0) || a.seq - b.seq;
const PROGRESS = laneRank('progress');
const FINAL = laneRank('final');
/** How far ahead expected ends hold budget back from progress. */
const ENDING_HORIZON_MS = 60_000;

/**
 * The card updates one app owes, most valuable first: at most one entry per card, so newer
 * content replaces what had not gone out yet and a superseded progress update is never sent. Its
 * turn draws the card from the store, so it shows the latest state; the platform's outbound queue
 * (SendPacer) then keeps every limit, and no card is taken while the platform has no room for its
 * lane. Held in memory: after a restart the store still says what each card owes, and the next
 * round offers it again.
 */
export class CardQueue {
  private readonly entries = new Map<string, Entry>();
  /** The keys of the entries of each task, to send a task's due cards of one lane in one turn. */
  private readonly byTask = new Map<string, Set<string>>();
  private seq = 0;
  private v = 0;
  /** Due now, best first (stale items are skipped when they come up). */
  private readonly due = new TinyQueue<Item>([], order);
  /** Not due yet, soonest first. */
  private readonly later = new TinyQueue<Item>([], (a, b) => a.notBefore - b.notBefore);
  /** Due, but a card of their task is being sent: they wait for it rather than race for the task's lease. */
  private readonly parked = new Map<string, Item[]>();
  private readonly tasksInFlight = new Set<string>();
  /** The platform has no room before `until` for lanes ranked `rank` or lower. */
  private blocked = { rank: Infinity, until: 0 };
  private workers = 0;
  private idle: (() => void)[] = [];
  private running = false;
  private timer?: AbortController;
  readonly stats = { offered: 0, superseded: 0 };
  /** Tasks expected to end soon (their time-left estimate) and how many cards they will want a final state on. */
  private readonly ending = new Map<string, { at: number; cards: number }>();
  private soon = { at: -Infinity, n: 0 };

  constructor(
    /** One turn: cards of one task and one lane, sent under one lease of it. */
    private readonly send: (cards: QueuedCard[]) => Promise<'done' | 'busy'>,
    private readonly clock: Clock,
    private readonly o: {
      concurrency?: number;
      /**
       * This replica's share of the app's limits (read at each turn: replicas come and go): with a
       * third of them it works a third as many turns at once, of a third as many cards, so what it
       * cannot send soon stays queued, where a replica running dry can take it over.
       */
      share?: LimitShare;
      logger?: Logger;
      /** When the platform could take a write of this lane (leaving `hold` of the minute to finals): cards are not taken (nor their task leased) before. */
      readyAt?: (lane: SendLane, hold: number) => number;
    } = {},
  ) {}

  /** Tells when a task is expected to end and how many cards it has (undefined: not known, or ended). */
  expectEnd(taskKey: string, at: number | undefined, cards = 0): void {
    if (at === undefined || cards === 0) this.ending.delete(taskKey);
    else this.ending.set(taskKey, { at, cards });
  }

  /** Finals expected within the minute (recounted at most twice a second); an expectation a minute overdue lapses. */
  private finalsSoon(now: number): number {
    if (now - this.soon.at < 500) return this.soon.n;
    let n = 0;
    for (const [task, e] of this.ending) {
      // Long past its expected end and not seen again (stopped, no longer polled): it is expected no more.
      if (e.at < now - ENDING_HORIZON_MS) this.ending.delete(task);
      else if (e.at <= now + ENDING_HORIZON_MS) n += e.cards;
    }
    this.soon = { at: now, n };
    return n;
  }

  get size(): number {
    return this.entries.size;
  }

  offer(c: QueuedCard): void {
    this.stats.offered++;
    const was = this.entries.get(c.key);
    // A card shown for another task now (its key reused): a new entry.
    if (was && was.taskKey !== c.taskKey) this.forget(was);
    const old = was?.taskKey === c.taskKey ? was : undefined;
    if (old && old.lane === 'progress' && old.hash !== c.hash) this.stats.superseded++;
    // Keeps the higher lane, and its place in line while its lane stays: moving up (progress to a
    // final state) it joins the end of its new lane, so finals go out in the order they came about.
    const lane = old && laneRank(old.lane) < laneRank(c.lane) ? old.lane : c.lane;
    if (old && old.lane === lane && old.shownAt === c.shownAt) {
      // Same place in line and the same turn (its time follows from shownAt): newer content, no new heap item.
      this.entries.set(c.key, { ...old, hash: c.hash });
    } else this.put({ ...c, lane, seq: old && old.lane === lane ? old.seq : this.seq++, v: ++this.v });
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

  private put(e: Entry): void {
    this.entries.set(e.key, e);
    const keys = this.byTask.get(e.taskKey) ?? new Set<string>();
    this.byTask.set(e.taskKey, keys.add(e.key));
    const item = { key: e.key, v: e.v, rank: laneRank(e.lane), shownAt: e.shownAt, seq: e.seq, notBefore: e.notBefore };
    (e.notBefore > this.clock.mono() ? this.later : this.due).push(item);
  }

  private drained(): Promise<void> {
    return this.workers === 0 ? Promise.resolve() : new Promise((r) => this.idle.push(r));
  }

  private spawn(): void {
    while (this.workers < sharedLimit(this.o.concurrency ?? 8, this.o.share?.() ?? 1)) {
      const c = this.take();
      if (!c) break;
      this.workers++;
      void this.work(c);
    }
    if (this.running && this.workers === 0) this.wakeAtNextDue();
  }

  private async work(first: Entry[]): Promise<void> {
    for (let batch: Entry[] | undefined = first; batch; batch = this.take()) {
      const taskKey = batch[0]!.taskKey;
      const cards = batch.map(({ seq: _s, v: _v, ...card }) => card);
      let outcome: 'done' | 'busy' = 'done';
      try {
        outcome = await this.send(cards);
      } catch (e) {
        // A store hiccup: the cards still owe it, and the task's next round offers them again.
        this.o.logger?.error({ err: e, cards: cards.map((c) => c.key) }, 'queued card update failed');
      }
      this.tasksInFlight.delete(taskKey);
      for (const it of this.parked.get(taskKey)?.splice(0) ?? []) this.due.push(it);
      this.parked.delete(taskKey);
      const retryAt = this.clock.mono() + BUSY_RETRY_MS;
      if (outcome === 'busy') for (const e of batch) if (!this.entries.has(e.key)) this.put({ ...e, v: ++this.v, notBefore: retryAt });
    }
    this.workers--;
    if (this.workers === 0) {
      for (const r of this.idle.splice(0)) r();
      if (this.running) this.wakeAtNextDue();
    }
  }

  /**
   * The most valuable card due now whose task has no card being sent, if the platform has room
   * for its lane, with the other cards of its task due in the same lane.
   */
  private take(): Entry[] | undefined {
    const now = this.clock.mono();
    while (this.later.length && this.later.peek()!.notBefore <= now) this.due.push(this.later.pop()!);
    for (;;) {
      const it = this.due.peek();
      if (!it) return undefined;
      const e = this.entries.get(it.key);
      if (!e || e.v !== it.v) {
        this.due.pop(); // superseded, or sent meanwhile
        continue;
      }
      if (this.tasksInFlight.has(e.taskKey)) {
        this.due.pop();
        const list = this.parked.get(e.taskKey) ?? [];
        list.push(it);
        this.parked.set(e.taskKey, list);
        continue;
      }
      if (!this.roomFor(it.rank, e.lane, now)) return undefined;
      this.due.pop();
      const batch = [e];
      const most = sharedLimit(MAX_BATCH, this.o.share?.() ?? 1);
      for (const k of this.byTask.get(e.taskKey) ?? []) {
        const s = this.entries.get(k)!;
        if (batch.length < most && s !== e && s.lane === e.lane && s.notBefore <= now) batch.push(s);
      }
      // The siblings' heap items go stale with their entries.
      for (const s of batch) this.forget(s);
      this.tasksInFlight.add(e.taskKey);
      return batch;
    }
  }

  /** Forgets every card of a task waiting here (another replica holds its writes); their heap items go stale. */
  dropTask(taskKey: string): void {
    for (const k of this.byTask.get(taskKey) ?? []) {
      const e = this.entries.get(k);
      if (e) this.forget(e);
    }
  }

  private forget(e: Entry): void {
    this.entries.delete(e.key);
    const keys = this.byTask.get(e.taskKey);
    keys?.delete(e.key);
    if (keys?.size === 0) this.byTask.delete(e.taskKey);
  }

  /** Whether the platform can take a write of this lane now; the lanes below have no looser limits, so they wait as long. */
  private roomFor(rank: number, lane: SendLane, now: number): boolean {
    if (rank >= this.blocked.rank && now < this.blocked.until) return false;
    // Progress and cards looked at leave the minute's budget to the finals expected within it.
    const at = this.o.readyAt?.(lane, rank > FINAL ? this.finalsSoon(now) : 0) ?? now;
    // The platform's "now" is read after ours: it is room now, not a wait.
    if (at <= Math.max(now, this.clock.mono())) return true;
    this.blocked = { rank, until: at };
    return false;
  }

  /** Nothing can go now: sleep until a card is due or the platform has room, or until an offer comes in. */
  private wakeAtNextDue(): void {
    const now = this.clock.mono();
    // Cards left due were held back by the platform's room; it may have opened while we asked
    // (`until` is past by now), and then the next moment is the time to look again.
    const at = Math.min(this.later.peek()?.notBefore ?? Infinity, this.due.length ? Math.max(this.blocked.until, now + 1) : Infinity);
    if (at === Infinity) return;
    this.timer?.abort();
    const timer = new AbortController();
    this.timer = timer;
    void this.clock.sleep(Math.max(1, at - now), timer.signal).then(
      () => this.running && this.timer === timer && this.spawn(),
      () => undefined,
    );
  }
}

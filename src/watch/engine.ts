import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { CardModel } from '../domain/card.js';
import type { CardStatus } from '../domain/card-status.js';
import type { CardHandle, ChatRef, Messenger } from '../domain/chat.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { asTaskbotError, ERROR_CODES, type ErrorCode, type TaskbotError } from '../domain/errors.js';
import { snapshotFingerprint, snapshotFromJson, snapshotToJson } from '../domain/snapshot-json.js';
import { computeProgress, isTerminal, type Platform, type TaskRef, type TaskSnapshot } from '../domain/task.js';
import type { Locale } from '../domain/locale.js';
import type { CardRow, Store, TaskRow, WatchedCard } from '../store/store.js';
import { MAX_POLL_MS, MIN_POLL_MS, nextPollDelay, WATCH_GIVE_UP_MS } from './backoff.js';
import { CardLifecycle, type CardOrigin, type Delivery, type InlineCard, type RoundView } from './lifecycle.js';
import { mapLimit } from './map-limit.js';
import { addSample, estimate, parseHistory } from '../domain/eta.js';
import { pollDelay } from './poll-plan.js';
import { DEFAULT_POLL_BUDGET, PollBudget } from './poll-budget.js';
import { CardQueue, type QueuedCard } from './card-queue.js';
import { yieldIfBusy } from '../domain/slice.js';
import { SEND_LANES, type SendLane } from '../domain/chat.js';
import type { LimitShare } from '../domain/limit-share.js';
import { LeaseKeeper, LeaseLost } from '../domain/lease-keeper.js';
import { AdminAlerts } from './admin-alerts.js';

/** Errors after which watching cannot help: the card shows the error and the watch ends. */
const ENDS_WATCH: ReadonlySet<ErrorCode> = new Set(['TASK_NOT_FOUND', 'INVALID_TASK_ID', 'INVALID_ARGUMENT', 'PERMISSION_DENIED', 'NOT_CONFIGURED']);
/** An ended task whose cards wait in this replica's queue is looked at again after this (sooner when the replica is seen gone). */
const OWED_RECHECK_MS = 30_000;
/** Consecutive transient failures before the card says it is retrying. */
const RETRY_NOTE_AFTER = 3;

export interface WatchOptions {
  leaseMs: number;
  batch: number;
  concurrency: number;
  minPollMs: number;
  maxPollMs: number;
  giveUpMs: number;
  /** Idle wait between rounds when nothing was due. */
  tickMs: number;
  /** Background polls per second per upstream API (`platform:kind`); see poll-budget.ts. */
  pollBudget: Readonly<Record<string, number>>;
  /** Queued card updates drawn and sent at once per platform (the platform's pacer keeps the rate). */
  sendConcurrency: number;
}

export const DEFAULT_WATCH: WatchOptions = {
  leaseMs: 15_000,
  batch: 200,
  concurrency: 16,
  minPollMs: MIN_POLL_MS,
  maxPollMs: MAX_POLL_MS,
  giveUpMs: WATCH_GIVE_UP_MS,
  tickMs: 250,
  pollBudget: DEFAULT_POLL_BUDGET,
  sendConcurrency: 8,
};

export interface WatchDeps {
  store: Store;
  tasks: { fetchRef(ref: TaskRef, o?: { interactive?: boolean }): Promise<TaskSnapshot> };
  messengers: Partial<Record<Platform, Messenger>>;
  timeZone: string;
  clock?: Clock;
  logger?: Logger;
  owner?: string;
  options?: Partial<WatchOptions>;
  /** This replica's share of the poll budgets; alone when not given. */
  share?: LimitShare;
  /** The poll budgets, shared with the task reads that charge people's reads to them; the engine's own when not given. */
  budget?: PollBudget;
}

/**
 * `fresh` carries the new card when it was asked for inline; `busy`: another round holds the task
 * and will update the card; `ended`: the card shows a final state; `unknown`: not a card we track.
 */
/**
 * `fresh` carries the new card when it was asked for inline and this call could give it; `busy`:
 * another holder has the task and will update the card; `ended`: the card shows a final state;
 * `unknown`: not a card we track. `blocked`: updates to the card wait for the admin (what for).
 */
export type RefreshResult = (({ status: 'fresh'; card?: CardModel } | { status: 'busy' } | { status: 'ended' }) & { blocked?: string }) | { status: 'unknown' };
/** `stopped` carries the stopped card when it was asked for inline and this call could give it. */
export type StopResult = { status: 'stopped'; card?: CardModel } | { status: 'ended' } | { status: 'unknown' };
/** `on`/`off`: whether the person now waits; `inactive`: the card is stopped or expired (Refresh first). */
export type NotifyResult = { status: 'on' | 'off'; card?: CardModel } | { status: 'ended' } | { status: 'inactive' } | { status: 'unknown' };

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
  /** One card queue per platform (per app): rounds offer what cards owe, it sends the most valuable first. */
  private readonly queues = new Map<Platform, CardQueue>();

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
    for (const [p, m] of Object.entries(d.messengers) as [Platform, Messenger][]) {
      const readyAt = m.readyAt?.bind(m);
      this.queues.set(
        p,
        new CardQueue((cs) => this.sendQueued(cs), this.clock, {
          concurrency: this.o.sendConcurrency,
          ...(d.logger && { logger: d.logger }),
          ...(readyAt && { readyAt }),
        }),
      );
    }
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

  /** Starts watching a card that was just sent showing `snap`. A finished task is recorded, not watched. */
  track(handle: CardHandle, snap: TaskSnapshot, locale: Locale, rendered: CardModel, o: CardOrigin = {}): Promise<void> {
    return this.life.track(handle, snap, locale, rendered, this.o.minPollMs, o);
  }

  /** `userId` waits for the card's task to end (`status … notify`, the script API); false when the card is not active. */
  async subscribe(key: string, userId: string): Promise<boolean> {
    return (await this.life.toggleWaiting(key, userId, 'on')) === 'on';
  }

  /**
   * The Notify me button: toggles `userId` waiting on the card, and redraws the card (its count of
   * people waiting) under the task's lease, inline when asked and this call could give it.
   */
  async toggleNotify(key: string, userId: string, opts: { inline: boolean }): Promise<NotifyResult> {
    const card = await this.d.store.cards.get(key);
    if (!card) return { status: 'unknown' };
    const now = await this.life.toggleWaiting(key, userId);
    if (!now) return { status: card.status === 'done' || card.status === 'gone' ? 'ended' : 'inactive' };
    const model = await this.leased(card.task_key, (task) =>
      this.process(task, { ...(opts.inline && { inlineKey: key }), only: [key], redraw: true, lane: 'people' }),
    );
    return model === BUSY || !model ? { status: now } : { status: now, card: model.model };
  }

  /** One round: claim what is due, poll each task once, update its cards. Returns how many tasks it handled. */
  async tick(): Promise<number> {
    const now = this.clock.now();
    const asked = this.clock.mono();
    // A task this engine holds already (a queue turn, a Stop) is left to that holder.
    const claimed = (await this.d.store.tasks.claimDue(this.owner, now, now + this.o.leaseMs, this.o.batch)).filter((t) => !this.leases.has(t.task_key));
    if (claimed.length === 0) return 0;
    this.stats.rounds++;
    this.stats.claimed += claimed.length;
    // Long rounds (slow upstreams) keep their leases alive: the keeper renews them until each is done.
    for (const t of claimed) this.leases.hold(t.task_key, asked);
    await mapLimit(claimed, this.o.concurrency, async (t) => {
      try {
        await yieldIfBusy();
        await this.process(t);
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

  /**
   * Refresh: poll the card's task now, restarting a stopped, expired or failed card. `fresh`
   * carries the new card (for an inline answer when asked).
   */
  async refresh(key: string, opts: { inline: boolean }): Promise<RefreshResult> {
    const card = await this.d.store.cards.get(key);
    if (!card) return { status: 'unknown' };
    const idle = (await this.d.store.tasks.get(card.task_key))?.active === 0;
    const now = await this.life.restart(key);
    if (!now) return { status: 'unknown' };
    // The truth about a card the platform refuses to update: it did not end, it waits for the admin.
    const blocked = now.last_error ? { blocked: now.last_error } : {};
    if (now.status !== 'active') return { status: 'ended', ...blocked };
    await this.d.store.tasks.makeDue(card.task_key, this.clock.now(), this.o.minPollMs, idle);
    const fresh = await this.leased(card.task_key, (task) => this.process(task, { interactive: true, direct: key, ...(opts.inline && { inlineKey: key }) }));
    if (fresh === BUSY) return { status: 'busy', ...blocked };
    // No inline card when it moved meanwhile (stopped): it would land after the stop.
    return { status: 'fresh', ...(fresh && { card: fresh.model }), ...blocked };
  }

  /**
   * Refresh of a stopped card by someone who may not resume it: the task's current state, drawn
   * once on the card as it stands (stopped) and answered inline; the card stays stopped. A card
   * that is no longer stopped is refreshed as usual.
   */
  async peek(key: string): Promise<RefreshResult> {
    const card = await this.d.store.cards.get(key);
    if (!card) return { status: 'unknown' };
    if (card.status !== 'stopped') return this.refresh(key, { inline: true });
    const task = await this.d.store.tasks.get(card.task_key);
    if (!task) return { status: 'unknown' };
    const stored = snapshotFromJson(task.snapshot);
    const snap = isTerminal(stored.state) ? stored : await this.d.tasks.fetchRef(stored.ref, { interactive: true });
    const inline = this.life.draw(card, { snap, target: 'active', live: null, history: parseHistory(task.history) });
    // Shown only if the card is still stopped when answered (else the next round draws what it is).
    return (await this.life.commitInline(key, inline)) ? { status: 'fresh', card: inline.model } : { status: 'busy' };
  }

  /** Stop on one card (its button). The stopped card is answered inline when asked, else sent. */
  async stopCard(key: string, opts: { inline: boolean }): Promise<StopResult> {
    const card = await this.life.stop(key);
    if (!card) return { status: 'unknown' };
    if (card.status !== 'stopped') return { status: 'ended' };
    if (card.shown === 'stopped') return { status: 'stopped' }; // pressed twice
    const model = await this.leased(card.task_key, (task) =>
      this.process(task, { ...(opts.inline && { inlineKey: key }), only: [key], news: true, lane: 'people' }),
    );
    // Another round holds the task: it shows the stopped card as soon as it has finished.
    return model === BUSY || !model ? { status: 'stopped' } : { status: 'stopped', card: model.model };
  }

  /**
   * `stop <id> [kind]` in a chat: every active card of that task (of that kind, when named) in the
   * chat stops, of those `may` allows (who may stop each is the caller's rule).
   */
  async stopInChat(chat: ChatRef, taskId: string, kind?: string, may: (c: CardRow) => Promise<boolean> = async () => true): Promise<number> {
    const cards = await this.d.store.cards.activeOfTask(chat.platform, chat.chatId, taskId, kind);
    let stopped = 0;
    for (const c of cards) if ((await may(c)) && (await this.stopCard(c.card_key, { inline: false })).status === 'stopped') stopped++;
    return stopped;
  }

  /** An inline answer (a button's) could not be given in time: the card gets it as an update instead, first in line. */
  async inlineLost(key: string, model: CardModel): Promise<void> {
    await this.life.inlineLost(key, model);
    const c = await this.d.store.cards.get(key);
    const now = this.clock.now();
    if (c)
      this.queues
        .get(c.platform)
        ?.offer({ key, taskKey: c.task_key, lane: 'people', shownAt: c.last_update_at ?? now, notBefore: this.clock.mono(), hash: '' });
  }

  /** A card as it is now, with its task's last snapshot (the script API's GET). */
  async describe(key: string): Promise<{ card: WatchedCard; snapshot?: TaskSnapshot } | undefined> {
    const card = await this.d.store.cards.get(key);
    if (!card) return undefined;
    const task = await this.d.store.tasks.get(card.task_key);
    return { card, ...(task && { snapshot: snapshotFromJson(task.snapshot) }) };
  }

  /** The chat a card is in, its language, who asked for it and its status, if we track it. */
  async cardInfo(key: string): Promise<{ platform: Platform; chatId: string; locale: Locale; askedBy: string | null; status: CardStatus } | undefined> {
    const c = await this.d.store.cards.get(key);
    return c && { platform: c.platform, chatId: c.chat_id, locale: c.locale, askedBy: c.asked_by, status: c.status };
  }

  /** A chat's cards, or a person's, with their tasks' last snapshots: every active one and the newest ended ones (for `list` and `mine`). */
  overview(f: Parameters<Store['cards']['overview']>[0]) {
    return this.d.store.cards.overview(f);
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
    const r = await this.leased(taskKey, (task) => this.process(task, { only: cards.map((c) => c.key), redraw: true, lane }), false);
    return r === BUSY ? 'busy' : 'done';
  }

  /**
   * Runs `work` under the task's lease, or (`poke`) tells the task's current holder to look again
   * soon; a lease lost midway (a pause outlived it, another holder took over) counts as held by
   * another too: the work stopped before its next write.
   */
  private async leased<T>(taskKey: string, work: (task: TaskRow) => Promise<T>, poke = true): Promise<T | typeof BUSY> {
    const now = this.clock.now();
    const asked = this.clock.mono();
    const task = this.leases.has(taskKey) ? undefined : await this.d.store.tasks.lease(taskKey, this.owner, now, now + this.o.leaseMs);
    if (!task) {
      if (poke) await this.d.store.tasks.poke(taskKey, now);
      return BUSY;
    }
    this.leases.hold(taskKey, asked);
    try {
      return await work(task);
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
   * One task under its lease: poll it when an active card wants news (never when it has ended or
   * only ended cards owe a rendering), then bring its cards (or just `only`) up to date. `redraw`
   * draws `only` again from what is stored (its count of people waiting changed); background polls
   * keep within the API's poll budget, `interactive` ones (Refresh) do not wait for it. With `lane`
   * the cards are written now at that lane; without, they are offered to the card queue, all but
   * `direct` (the card a person pressed, answered now).
   */
  private async process(task: TaskRow, o: ProcessOptions = {}): Promise<InlineCard | undefined> {
    const queue = this.queues.get(task.platform);
    // A round's offers reach the queue once it has let the task go: before, their turns would find it held.
    const offers: QueuedCard[] = [];
    const guard = () => this.leases.guard(task.task_key);
    const how: Delivery = o.lane
      ? { lane: o.lane, guard }
      : {
          lane: 'people',
          guard,
          ...(queue && { queue: (c: QueuedCard) => offers.push(c) }),
          ...(o.direct && { now: o.direct }),
          interested: o.interactive === true || (task.interest_until ?? 0) > this.clock.now(),
        };
    try {
      return await this.settleTask(task, o, how);
    } finally {
      for (const c of offers) queue?.offer(c);
    }
  }

  private async settleTask(task: TaskRow, o: ProcessOptions, how: Delivery): Promise<InlineCard | undefined> {
    const now = this.clock.now();
    const { inlineKey, only } = o;
    const cards = await this.d.store.cards.work(task.task_key, only);
    const stored = snapshotFromJson(task.snapshot);
    const terminal = isTerminal(stored.state);
    const history = parseHistory(task.history);
    if (only || terminal || !cards.some((c) => c.status === 'active')) {
      const live = o.redraw ? (task.error_count >= RETRY_NOTE_AFTER ? 'retrying' : 'live') : null;
      const est = live ? estimate(history, now) : undefined;
      const view: RoundView = {
        snap: stored,
        target: terminal ? 'done' : 'active',
        live,
        history,
        ...(inlineKey && { inlineKey }),
        ...errorOf(task),
        ...(est && { estimate: est }),
      };
      const pass = await this.life.settle(cards, view, how);
      const inline = await this.committed(pass.inline, inlineKey, o.news);
      // Ended, or no card left watching it: it will want no finals the queue should keep room for.
      if (!only) this.queues.get(task.platform)?.expectEnd(task.task_key, undefined);
      // Cards it offered to the queue are the queue's now (held_by): the task is looked at again late,
      // or as soon as this replica is seen gone (app/presence.ts).
      const due = only ? Math.min(task.next_due_at, pass.retryAt ?? Infinity) : (pass.retryAt ?? now + (pass.queued ? OWED_RECHECK_MS : task.backoff_ms));
      await this.d.store.tasks.complete(task.task_key, this.owner, now, { next_due_at: due, ...(!only && { held_by: pass.queued ? this.owner : null }) });
      return inline;
    }
    const ref: TaskRef = { platform: task.platform, kind: task.kind as TaskRef['kind'], id: task.task_id, ...(task.operator && { operator: task.operator }) };
    // A person's Refresh is not a background poll: it never waits for the budget.
    const slot = o.interactive ? ({ ok: true } as const) : this.budget.take(`${task.platform}:${task.kind}`, task.task_key, this.clock.mono());
    if (!slot.ok) {
      // Over the API's poll budget this second: due again when it has room (people's calls go first).
      this.stats.deferred++;
      await this.d.store.tasks.complete(task.task_key, this.owner, now, { next_due_at: now + slot.waitMs });
      return undefined;
    }
    let snap: TaskSnapshot;
    try {
      this.stats.fetches++;
      snap = await this.d.tasks.fetchRef(ref, { interactive: o.interactive === true });
    } catch (e) {
      return this.failed(task, cards, asTaskbotError(e), how, inlineKey);
    }
    const fingerprint = snapshotFingerprint(snap);
    const changed = fingerprint !== task.snapshot_hash;
    const ended = isTerminal(snap.state);
    const expired = !ended && now - task.created_at >= this.o.giveUpMs;
    const samples = addSample(history, now, computeProgress(snap));
    const est = ended ? undefined : estimate(samples, now);
    const view: RoundView = {
      snap,
      target: ended ? 'done' : expired ? 'expired' : 'active',
      live: 'live',
      history: samples,
      ...(inlineKey && { inlineKey }),
      ...(est && { estimate: est }),
    };
    const pass = await this.life.settle(cards, view, how);
    const inline = await this.committed(pass.inline, inlineKey);
    // The queue keeps room in the minute for the finals this task's cards will want.
    const eta = est?.kind === 'eta' && !only ? est : undefined;
    const live = eta ? cards.filter((c) => c.status === 'active').length : 0;
    this.queues.get(task.platform)?.expectEnd(task.task_key, eta && this.clock.mono() + eta.remainingMs, live);
    const backoff = nextPollDelay(task.backoff_ms, changed, this.o.minPollMs, this.o.maxPollMs);
    // Ended (or given up) with its last renderings queued: as above, they are the queue's now.
    const next =
      view.target !== 'active' && pass.queued
        ? OWED_RECHECK_MS
        : pollDelay({ backoffMs: backoff, estimate: est, interested: (task.interest_until ?? 0) > now, minMs: this.o.minPollMs, maxMs: this.o.maxPollMs });
    await this.d.store.tasks.complete(task.task_key, this.owner, now, {
      snapshot: snapshotToJson(snap),
      snapshot_hash: fingerprint,
      next_due_at: Math.min(now + next, pass.retryAt ?? Infinity),
      backoff_ms: backoff,
      last_changed_at: changed ? now : task.last_changed_at,
      error_count: 0,
      last_error: null,
      history: JSON.stringify(samples),
      held_by: pass.queued ? this.owner : null,
    });
    return inline;
  }

  /**
   * An inline answer is recorded as shown while the lease is still held, so no other holder sends
   * the same rendering meanwhile; undefined when it no longer fits (the card moved) or, `news`,
   * when the card shows it already (another press drew it).
   */
  private async committed(inline: InlineCard | undefined, key: string | undefined, news = false): Promise<InlineCard | undefined> {
    return inline && key && (await this.life.commitInline(key, inline, news)) ? inline : undefined;
  }

  /** A failed poll: transient errors back off (and after a few, say so on the card); the rest end the watch. */
  private async failed(task: TaskRow, cards: CardRow[], err: TaskbotError, how: Delivery, inlineKey?: string): Promise<InlineCard | undefined> {
    const now = this.clock.now();
    const ends = ENDS_WATCH.has(err.code);
    this.d.logger?.[ends ? 'warn' : 'info'](
      { code: err.code, err: err.toJSON(), task: task.task_key },
      ends ? 'watch ended by an error' : 'poll failed; backing off',
    );
    const errors = task.error_count + 1;
    // The 24 h give-up counts while the upstream fails, too.
    const expired = !ends && now - task.created_at >= this.o.giveUpMs;
    const view: RoundView = {
      snap: snapshotFromJson(task.snapshot),
      target: ends ? 'error' : expired ? 'expired' : 'active',
      live: errors >= RETRY_NOTE_AFTER || inlineKey ? 'retrying' : null,
      errorCode: err.code,
      ...(inlineKey && { inlineKey }),
    };
    const pass = await this.life.settle(cards, view, how);
    const inline = await this.committed(pass.inline, inlineKey);
    const backoff = nextPollDelay(task.backoff_ms, false, this.o.minPollMs, this.o.maxPollMs);
    // Rate limits say how long to wait; never come back sooner.
    const wait = Math.max(backoff, err.details.retryAfterMs ?? 0);
    await this.d.store.tasks.complete(task.task_key, this.owner, now, {
      next_due_at: Math.min(now + wait, pass.retryAt ?? Infinity),
      backoff_ms: backoff,
      error_count: errors,
      last_error: err.code,
    });
    return inline;
  }
}

interface ProcessOptions {
  inlineKey?: string;
  /** Just these cards of the task. */
  only?: string[];
  redraw?: boolean;
  interactive?: boolean;
  news?: boolean;
  /** Write the cards now at this lane; without, they are offered to the card queue (all but `direct`). */
  lane?: SendLane;
  /** The card a person pressed: answered now, not queued. */
  direct?: string;
}

const BUSY: unique symbol = Symbol('busy');
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** The error an ended card names when it is drawn again (its task's last error). */
function errorOf(task: TaskRow): { errorCode?: ErrorCode } {
  const code = task.last_error as ErrorCode | null;
  return code && ERROR_CODES.includes(code) ? { errorCode: code } : {};
}

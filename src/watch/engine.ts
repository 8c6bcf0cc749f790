import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { cardHash, compactCard, taskCard, type TaskCardMode } from '../cards/task-card.js';
import type { CardModel } from '../domain/card.js';
import { cardKey, type CardHandle, type ChatRef, type Messenger } from '../domain/chat.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { asTaskbotError, type ErrorCode, type TaskbotError } from '../domain/errors.js';
import { snapshotFingerprint, snapshotFromJson, snapshotToJson } from '../domain/snapshot-json.js';
import { isTerminal, refKey, type Platform, type TaskRef, type TaskSnapshot } from '../domain/task.js';
import { messages, type Locale } from '../i18n/messages.js';
import type { CardRow, Store, TaskRow } from '../store/store.js';
import { MAX_POLL_MS, MIN_POLL_MS, nextPollDelay, WATCH_GIVE_UP_MS } from './backoff.js';
import { mapLimit } from './map-limit.js';

const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

/** Errors after which watching cannot help: the card shows the error and the watch ends. */
const ENDS_WATCH: ReadonlySet<ErrorCode> = new Set(['TASK_NOT_FOUND', 'INVALID_TASK_ID', 'INVALID_ARGUMENT', 'PERMISSION_DENIED', 'NOT_CONFIGURED']);
/** Consecutive transient failures before the card says it is retrying. */
const RETRY_NOTE_AFTER = 3;
/** Feishu allows 5 updates a second per message; we keep every card to one. */
export const CARD_MIN_INTERVAL_MS = 1000;

export interface WatchOptions {
  leaseMs: number;
  batch: number;
  concurrency: number;
  minPollMs: number;
  maxPollMs: number;
  giveUpMs: number;
  /** Idle wait between rounds when nothing was due. */
  tickMs: number;
}

export const DEFAULT_WATCH: WatchOptions = {
  leaseMs: 15_000,
  batch: 200,
  concurrency: 16,
  minPollMs: MIN_POLL_MS,
  maxPollMs: MAX_POLL_MS,
  giveUpMs: WATCH_GIVE_UP_MS,
  tickMs: 250,
};

export interface WatchDeps {
  store: Store;
  tasks: { fetchRef(ref: TaskRef): Promise<TaskSnapshot> };
  messengers: Partial<Record<Platform, Messenger>>;
  timeZone: string;
  clock?: Clock;
  logger?: Logger;
  owner?: string;
  options?: Partial<WatchOptions>;
}

/** `fresh` carries the new card when it was asked for inline; otherwise the card was updated through the messenger. */
export type RefreshResult = { status: 'fresh'; card?: CardModel } | { status: 'busy' } | { status: 'unknown' };

interface CardPass {
  inline?: CardModel;
  active: number;
  /** A card was skipped for the one-update-a-second rule or a failed send: come back soon. */
  retrySoon: boolean;
}

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
  /** Counters for metrics and benchmarks. */
  readonly stats = { fetches: 0, updates: 0, rounds: 0, claimed: 0 };

  constructor(private readonly d: WatchDeps) {
    this.owner = d.owner ?? `engine-${randomUUID()}`;
    this.clock = d.clock ?? systemClock;
    this.o = { ...DEFAULT_WATCH, ...d.options };
  }

  /** Starts watching a card that was just sent showing `snap`. A finished task is recorded, not watched. */
  async track(handle: CardHandle, snap: TaskSnapshot, locale: Locale, rendered: CardModel): Promise<void> {
    const now = this.clock.now();
    const terminal = isTerminal(snap.state);
    const key = refKey(snap.ref);
    await this.d.store.addCard(
      {
        card_key: cardKey(handle),
        platform: handle.platform,
        handle: handle.handle,
        chat_id: handle.chatId,
        task_key: key,
        locale,
        status: terminal ? 'done' : 'active',
        rendered_hash: cardHash(rendered),
        last_update_at: now,
        created_at: now,
        meta: handle.meta ? JSON.stringify(handle.meta) : null,
      },
      {
        task_key: key,
        platform: snap.ref.platform,
        kind: snap.ref.kind,
        task_id: snap.ref.id,
        operator: snap.ref.operator ?? null,
        snapshot: snapshotToJson(snap),
        snapshot_hash: snapshotFingerprint(snap),
        active: terminal ? 0 : 1,
        next_due_at: now + this.o.minPollMs,
        backoff_ms: this.o.minPollMs,
        created_at: now,
        last_changed_at: now,
      },
    );
  }

  /** One round: claim what is due, poll each task once, update its cards. Returns how many tasks it handled. */
  async tick(): Promise<number> {
    const now = this.clock.now();
    const claimed = await this.d.store.claimDueTasks(this.owner, now, now + this.o.leaseMs, this.o.batch);
    if (claimed.length === 0) return 0;
    this.stats.rounds++;
    this.stats.claimed += claimed.length;
    const working = new Set(claimed.map((t) => t.task_key));
    // Long rounds (slow upstreams) keep their leases alive.
    const renew = setInterval(() => {
      this.d.store.renewTaskLeases([...working], this.owner, this.clock.now() + this.o.leaseMs).catch((e) => this.d.logger?.warn({ err: e }, 'lease renewal failed'));
    }, this.o.leaseMs / 3);
    renew.unref();
    try {
      await mapLimit(claimed, this.o.concurrency, async (t) => {
        try {
          await this.process(t);
        } catch (e) {
          // A store hiccup mid-task: the lease lapses and the task is polled again later.
          this.d.logger?.error({ err: e, task: t.task_key }, 'watch round failed for a task');
        } finally {
          working.delete(t.task_key);
        }
      });
    } finally {
      clearInterval(renew);
    }
    return claimed.length;
  }

  /**
   * Refresh: poll the card's task now, restarting a stopped or expired card. `fresh` carries the
   * new card (for an inline answer when asked); `busy` means another replica is polling it right
   * now and its update will reach the card; `unknown` is a card we do not track.
   */
  async refresh(key: string, opts: { inline: boolean }): Promise<RefreshResult> {
    const card = await this.d.store.getCard(key);
    if (!card) return { status: 'unknown' };
    if (card.status !== 'active') await this.d.store.updateCard(key, { status: 'active' });
    const now = this.clock.now();
    await this.d.store.makeDue(card.task_key, now, this.o.minPollMs);
    const [task] = await this.d.store.claimDueTasks(this.owner, now, now + this.o.leaseMs, 1, card.task_key);
    if (!task) return { status: 'busy' };
    const fresh = await this.process(task, opts.inline ? key : undefined);
    return { status: 'fresh', ...(fresh && { card: fresh }) };
  }

  /** Sends a card computed for an inline answer that could not be given in time. */
  async deliver(key: string, model: CardModel): Promise<void> {
    const card = await this.d.store.getCard(key);
    if (!card) return;
    await this.send(card, model);
    await this.d.store.updateCard(key, { rendered_hash: cardHash(model), last_update_at: this.clock.now() });
  }

  /** Stop on one card (its button): returns the stopped card, sent through the messenger unless answered inline. */
  async stopCard(key: string, opts: { inline: boolean }): Promise<CardModel | undefined> {
    const card = await this.d.store.getCard(key);
    if (!card) return undefined;
    const task = await this.d.store.getTask(card.task_key);
    if (!task) return undefined;
    return this.stopOne(card, task, opts.inline);
  }

  /** `stop <id> [kind]` in a chat: every active card of that task (of that kind, when named) in the chat stops. */
  async stopInChat(chat: ChatRef, taskId: string, kind?: string): Promise<number> {
    const suffix = kind ? `:${kind}:${taskId}` : `:${taskId}`;
    const cards = (await this.d.store.cardsInChat(chat.platform, chat.chatId)).filter((c) => c.status === 'active' && c.task_key.endsWith(suffix));
    for (const c of cards) {
      const task = await this.d.store.getTask(c.task_key);
      if (task) await this.stopOne(c, task, false);
    }
    return cards.length;
  }

  /** The chat a card is in, if we track it. */
  async cardChat(key: string): Promise<string | undefined> {
    return (await this.d.store.getCard(key))?.chat_id;
  }

  /** The cards of one chat with their tasks' last snapshots (for `list`). */
  chatCards(chat: ChatRef, since = 0) {
    return this.d.store.cardsInChat(chat.platform, chat.chatId, since);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
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
    await this.d.store.releaseTaskLeases(this.owner).catch((e) => this.d.logger?.warn({ err: e }, 'could not release leases'));
  }

  /** Waits between rounds; stop() cuts the wait short. */
  private async idle(ms: number): Promise<void> {
    this.wake = new AbortController();
    await this.clock.sleep(ms, this.wake.signal).catch(() => undefined);
  }

  private async stopOne(card: CardRow, task: TaskRow, inline: boolean): Promise<CardModel> {
    const model = taskCard(snapshotFromJson(task.snapshot), { locale: card.locale as Locale, timeZone: this.d.timeZone, mode: 'stopped' });
    if (!inline) await this.send(card, model).catch((e) => this.d.logger?.warn({ err: asTaskbotError(e).toJSON(), card: card.card_key }, 'stop update failed'));
    await this.d.store.updateCard(card.card_key, { status: 'stopped', rendered_hash: cardHash(model), last_update_at: this.clock.now() });
    await this.d.store.deactivateIfUnwatched(card.task_key);
    return model;
  }

  private async process(task: TaskRow, inlineKey?: string): Promise<CardModel | undefined> {
    const ref: TaskRef = { platform: task.platform as Platform, kind: task.kind as TaskRef['kind'], id: task.task_id, ...(task.operator && { operator: task.operator }) };
    const now = this.clock.now();
    let snap: TaskSnapshot;
    try {
      this.stats.fetches++;
      snap = await this.d.tasks.fetchRef(ref);
    } catch (e) {
      return this.failed(task, asTaskbotError(e), inlineKey);
    }
    const fingerprint = snapshotFingerprint(snap);
    const changed = fingerprint !== task.snapshot_hash;
    const terminal = isTerminal(snap.state);
    const expired = !terminal && now - task.created_at >= this.o.giveUpMs;
    const mode: TaskCardMode = terminal ? 'final' : expired ? 'expired' : 'live';
    const pass = await this.updateCards(task.task_key, snap, mode, inlineKey);
    const backoff = nextPollDelay(task.backoff_ms, changed, this.o.minPollMs, this.o.maxPollMs);
    const keepGoing = (!terminal && !expired && pass.active > 0) || pass.retrySoon;
    await this.d.store.completeTask(task.task_key, this.owner, {
      snapshot: snapshotToJson(snap),
      snapshot_hash: fingerprint,
      active: keepGoing ? 1 : 0,
      next_due_at: now + (pass.retrySoon ? Math.min(backoff, CARD_MIN_INTERVAL_MS) : backoff),
      backoff_ms: backoff,
      last_changed_at: changed ? now : task.last_changed_at,
      error_count: 0,
      last_error: null,
    });
    return pass.inline;
  }

  /** A failed poll: transient errors back off (and after a few, say so on the card); the rest end the watch. */
  private async failed(task: TaskRow, err: TaskbotError, inlineKey?: string): Promise<CardModel | undefined> {
    const now = this.clock.now();
    const prev = snapshotFromJson(task.snapshot);
    const ends = ENDS_WATCH.has(err.code);
    this.d.logger?.[ends ? 'warn' : 'info']({ code: err.code, err: err.toJSON(), task: task.task_key }, ends ? 'watch ended by an error' : 'poll failed; backing off');
    const errors = task.error_count + 1;
    // The 24 h give-up counts while the upstream fails, too.
    const expired = !ends && now - task.created_at >= this.o.giveUpMs;
    let pass: CardPass = { active: 1, retrySoon: false };
    if (ends) {
      pass = await this.updateCards(task.task_key, prev, 'error', inlineKey, err);
    } else if (expired) {
      pass = await this.updateCards(task.task_key, prev, 'expired', inlineKey);
    } else if (errors >= RETRY_NOTE_AFTER || inlineKey) {
      pass = await this.updateCards(task.task_key, prev, 'retrying', inlineKey, err);
    }
    const backoff = nextPollDelay(task.backoff_ms, false, this.o.minPollMs, this.o.maxPollMs);
    // Rate limits say how long to wait; never come back sooner.
    const wait = Math.max(backoff, err.details.retryAfterMs ?? 0);
    await this.d.store.completeTask(task.task_key, this.owner, {
      active: (ends || expired) && !pass.retrySoon ? 0 : 1,
      next_due_at: now + wait,
      backoff_ms: backoff,
      error_count: errors,
      last_error: err.code,
    });
    return pass.inline;
  }

  private async updateCards(taskKey: string, snap: TaskSnapshot, mode: TaskCardMode, inlineKey?: string, err?: TaskbotError): Promise<CardPass> {
    const cards = await this.d.store.activeCards(taskKey);
    const status = mode === 'final' ? 'done' : mode === 'expired' ? 'expired' : mode === 'error' ? 'error' : 'active';
    const pass: CardPass = { active: 0, retrySoon: false };
    // Cards of one task differ only by locale: render each locale once.
    const rendered = new Map<string, { model: CardModel; hash: string }>();
    const render = (locale: Locale) => {
      let r = rendered.get(locale);
      if (!r) {
        const model = taskCard(snap, {
          locale,
          timeZone: this.d.timeZone,
          mode,
          ...(err && { errorCode: err.code, errorText: `${err.code}: ${messages(locale).error[err.code]}` }),
        });
        r = { model, hash: cardHash(model) };
        rendered.set(locale, r);
      }
      return r;
    };
    for (const card of cards) {
      // Store calls on SQLite finish synchronously; let timers and I/O in between cards.
      await yieldToLoop();
      const { model, hash } = render(card.locale as Locale);
      const now = this.clock.now();
      if (card.card_key === inlineKey) {
        pass.inline = model;
        await this.d.store.updateCard(card.card_key, { rendered_hash: hash, last_update_at: now, status });
      } else if (hash === card.rendered_hash) {
        if (status !== card.status) await this.d.store.updateCard(card.card_key, { status });
      } else {
        const wait = card.last_update_at === null ? 0 : card.last_update_at + CARD_MIN_INTERVAL_MS - now;
        if (wait > 0 && status === 'active') {
          pass.retrySoon = true;
          pass.active++;
          continue;
        }
        if (wait > 0) await this.clock.sleep(wait); // a last update is worth the short wait
        const er = await this.sendOrCompact(card, model);
        if (!er) {
          await this.d.store.updateCard(card.card_key, { rendered_hash: hash, last_update_at: this.clock.now(), status });
        } else if (er.persistence === 'permanent') {
          // Recalled, deleted, a dissolved chat, a card refused even when small: it costs no more calls.
          this.d.logger?.warn({ code: er.code, err: er.toJSON(), card: card.card_key }, 'card can no longer be updated; its watch ends');
          await this.d.store.updateCard(card.card_key, { status: 'gone' });
          continue;
        } else {
          this.d.logger?.warn({ code: er.code, err: er.toJSON(), card: card.card_key }, 'card update failed; will retry');
          pass.retrySoon = true;
          pass.active++;
          continue;
        }
      }
      if (status === 'active') pass.active++;
    }
    return pass;
  }

  /** Sends an update; a card refused for its content is sent once more, smaller. Resolves with the failure, if any. */
  private async sendOrCompact(card: CardRow, model: CardModel): Promise<TaskbotError | undefined> {
    try {
      await this.send(card, model);
      return undefined;
    } catch (e) {
      const er = asTaskbotError(e);
      if (er.code !== 'CARD_REJECTED') return er;
      this.d.logger?.warn({ err: er.toJSON(), card: card.card_key }, 'the platform refused the card; sending a smaller one');
      return this.send(card, compactCard(model)).then(
        () => undefined,
        (e2: unknown) => asTaskbotError(e2),
      );
    }
  }

  private send(card: CardRow, model: CardModel): Promise<void> {
    const messenger = this.d.messengers[card.platform as Platform];
    if (!messenger) return Promise.reject(new Error(`no messenger for ${card.platform}`));
    this.stats.updates++;
    const handle: CardHandle = {
      platform: card.platform as Platform,
      chatId: card.chat_id,
      handle: card.handle,
      ...(card.meta && { meta: JSON.parse(card.meta) as Record<string, unknown> }),
    };
    return messenger.update(handle, model);
  }
}

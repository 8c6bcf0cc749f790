import type { Logger } from 'pino';
import { cardHash, compactCard } from '../cards/task-card.js';
import type { CardModel } from '../domain/card.js';
import { RESTARTABLE, sourcesOf, type CardStatus } from '../domain/card-status.js';
import { cardKey, messengerOf, type CardHandle, type Messengers, type SendLane } from '../domain/chat.js';
import type { QueuedCard } from './card-queue.js';
import type { Clock } from '../domain/clock.js';
import { asTaskbotError, type TaskbotError } from '../domain/errors.js';
import { snapshotFingerprint, snapshotToJson } from '../domain/snapshot-json.js';
import { computeProgress, isTerminal, refKey, type TaskSnapshot } from '../domain/task.js';
import type { Locale } from '../domain/locale.js';
import { addSample } from '../domain/eta.js';
import type { CardRow, Store } from '../store/store.js';
import { yieldIfBusy } from '../domain/slice.js';
import type { AdminAlerts } from './admin-alerts.js';
import { handleOf, mentionWaiting } from './mentions.js';
import { syncPin } from './pins.js';
import { drawCard, drawer, type InlineCard, type RoundView } from './card-drawing.js';
import { retryLater } from './write-failures.js';

/** Feishu allows 5 updates a second per message; we keep every card to one. */
export const CARD_MIN_INTERVAL_MS = 1000;
/** A card that keeps changing under a send (Stop, Refresh) is left for the next round after this many tries. */
const MAX_TRIES = 3;

/** Where a card came from: a script's own title, or the person who asked for it in the chat (none: a script posted it). */
export interface CardOrigin {
  title?: string;
  askedBy?: string;
}

/**
 * How a settle pass writes: everything at `lane` now, or (with `queue`) only the card `now` names
 * (a person's answer), offering the rest to the app's card queue in their lane.
 */
export interface Delivery {
  lane: SendLane;
  queue?: (c: QueuedCard) => void;
  now?: string;
  /** Someone asked about the task lately: its live cards go before plain progress. */
  interested?: boolean;
  /** Throws (LeaseLost) unless the task's lease is still the caller's: asked before every write. */
  guard?: () => Promise<void>;
}

export interface Settlement {
  inline?: InlineCard;
  /** How many cards were offered to the queue. */
  queued?: number;
  /** The earliest time a card asked to be tried again (a failed send, the one-a-second rule). */
  retryAt?: number;
}

/**
 * The one owner of a card's life (docs/architecture.md: active → stopped | done | expired | error | gone, Refresh
 * back to active). Every status change is a conditional write in the store that reports whether it
 * won; a loser re-reads the card and acts on what is there. Sends to a task's cards happen only
 * under that task's lease (a round, a Stop or a Refresh), so they never overlap, and a card whose
 * status moved while a send was in flight gets the rendering of its new status right after.
 */
export class CardLifecycle {
  constructor(
    private readonly d: {
      store: Store;
      messengers: Messengers;
      timeZone: string;
      clock: Clock;
      /** Who holds the leases of the tasks it works on (the engine's owner). */
      owner: string;
      /** Where writes that wait for the admin are told. */
      alerts: AdminAlerts;
      logger?: Logger;
      /** Counts every send, for metrics and benchmarks. */
      onSend?: (lane: SendLane) => void;
    },
  ) {}

  /** A card was just sent showing `snap`: record it (ended already when the task has). */
  async track(handle: CardHandle, snap: TaskSnapshot, locale: Locale, rendered: CardModel, pollMs: number, o: CardOrigin = {}): Promise<void> {
    const now = this.d.clock.now();
    const terminal = isTerminal(snap.state);
    const key = refKey(snap.ref);
    await this.d.store.cards.add(
      {
        card_key: cardKey(handle),
        app: handle.app,
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
        title: o.title ?? null,
        asked_by: o.askedBy ?? null,
      },
      {
        task_key: key,
        app: snap.ref.app,
        platform: snap.ref.platform,
        kind: snap.ref.kind,
        task_id: snap.ref.id,
        operator: snap.ref.operator ?? null,
        snapshot: snapshotToJson(snap),
        snapshot_hash: snapshotFingerprint(snap),
        next_due_at: now + pollMs,
        backoff_ms: pollMs,
        created_at: now,
        last_changed_at: now,
        history: JSON.stringify(addSample([], now, computeProgress(snap))),
      },
      terminal,
    );
  }

  /**
   * The Notify me button: `userId` starts (or stops) waiting for the card's task to end. Undefined
   * when the card is not active: an ended card has nothing to wait for, a stopped one is not watched.
   */
  toggleWaiting(key: string, userId: string, only?: 'on'): Promise<'on' | 'off' | undefined> {
    return this.d.store.subscribers.toggle(key, userId, this.d.clock.now(), only);
  }

  /** Stop: active → stopped. Returns the card as it is now (stopped, or whatever it had become). */
  async stop(key: string): Promise<CardRow | undefined> {
    return (await this.d.store.cards.transition(key, ['active'], 'stopped')) ?? this.d.store.cards.get(key);
  }

  /** Refresh: a card in one of `from` (stopped, expired or failed) → active. Returns the card as it is now. */
  async restart(key: string, from: readonly CardStatus[] = RESTARTABLE): Promise<CardRow | undefined> {
    return (await this.d.store.cards.transition(key, from, 'active')) ?? this.d.store.cards.get(key);
  }

  /**
   * An inline answer is about to be given: recorded as shown if the card is still in the status it
   * was drawn for (and, `onlyNews`, does not show it already). False: give no inline answer (the
   * card moved meanwhile, and the next round sends; or another press already drew it).
   */
  commitInline(key: string, inline: InlineCard, onlyNews = false): Promise<boolean> {
    return this.d.store.cards.recordShown(key, inline.status, inline.hash, this.d.clock.now(), onlyNews ? 'news' : 'still');
  }

  /** An inline answer never reached the platform: the card owes it again. */
  inlineLost(key: string, model: CardModel): Promise<void> {
    return this.d.store.cards.forgetShown(key, cardHash(model), this.d.clock.now());
  }

  /** Brings every given card of one task (the caller holds its lease) to what `view` says. */
  async settle(cards: (CardRow & { pin_chat?: boolean })[], view: RoundView, how: Delivery = { lane: 'people' }): Promise<Settlement> {
    const pass: Settlement = {};
    const later = (at: number) => (pass.retryAt = Math.min(pass.retryAt ?? at, at));
    const queued = new Set<string>();
    const queue = how.queue;
    // The same delivery, counting what it offers (a queued card tells the people waiting on its own turn).
    const offer = (c: QueuedCard) => {
      queued.add(c.key);
      pass.queued = queued.size;
      queue?.(c);
    };
    const send: Delivery = queue ? { ...how, queue: offer } : how;
    // The card a person pressed goes first: their answer waits for no other card.
    const first = view.inlineKey ?? how.now;
    const ordered = first ? [...cards.filter((c) => c.card_key === first), ...cards.filter((c) => c.card_key !== first)] : cards;
    const draw = drawer(view, this.d.timeZone);
    const guard = how.guard ?? (async () => undefined);
    for (const card of ordered) {
      await yieldIfBusy();
      const now = this.d.clock.now();
      if (card.retry_at !== null && card.retry_at > now && card.card_key !== view.inlineKey) {
        later(card.retry_at);
        continue;
      }
      const left = await this.settleCard(card, view, pass, later, send, draw);
      // The people waiting are told once the final state went out (a queued one tells them on its turn).
      if (left?.status === 'done' && left.card_key !== view.inlineKey && !queued.has(left.card_key))
        await mentionWaiting(this.d, left, view.snap, later, guard);
      if (left) await syncPin(this.d, left, card.pin_chat === true, guard, () => draw(left).model);
    }
    return pass;
  }

  /** One card to the view; resolves with the card as left. */
  private async settleCard(
    card: CardRow,
    view: RoundView,
    pass: Settlement,
    later: (at: number) => void,
    how: Delivery,
    draw: (c: CardRow & { waiting?: number }) => { model: CardModel; hash: string },
  ): Promise<CardRow | undefined> {
    let c: CardRow | undefined = card;
    for (let i = 0; c && i < MAX_TRIES; i++) {
      if (c.status === 'active' && view.target !== 'active') {
        const moved: CardRow | undefined = await this.d.store.cards.transition(c.card_key, ['active'], view.target);
        if (!moved) {
          c = await this.d.store.cards.get(c.card_key); // someone else moved it first: act on what it is now
          continue;
        }
        c = moved;
      }
      if (c.status === 'gone' || (c.status === 'active' && view.live === null)) return c;
      const { model, hash } = draw(c);
      const now = this.d.clock.now();
      if (c.card_key === view.inlineKey) {
        // Answered by the caller, recorded (commitInline) before the lease goes if it still fits.
        pass.inline = { model, status: c.status, hash };
        return c;
      }
      if (c.shown === c.status && hash === c.rendered_hash) return c; // nothing new to show
      // One update a second per card, last renderings included: they come back when the second is up
      // (never later: after the clock stepped back, the last update looks as if it was in the future).
      const wait = c.last_update_at === null ? 0 : Math.min(CARD_MIN_INTERVAL_MS, c.last_update_at + CARD_MIN_INTERVAL_MS - now);
      if (how.queue && c.card_key !== how.now) {
        const lane: SendLane = c.status !== 'active' ? 'final' : how.interested ? 'interest' : 'progress';
        how.queue({
          key: c.card_key,
          taskKey: c.task_key,
          lane,
          shownAt: c.last_update_at ?? c.created_at,
          notBefore: this.d.clock.mono() + Math.max(0, wait),
          hash,
        });
        return c;
      }
      if (wait > 0) {
        later(now + wait);
        return c;
      }
      await how.guard?.();
      const er = await this.sendOrCompact(c, model, how.lane);
      if (er) return this.sendFailed(c, er, later);
      this.d.alerts.cleared(c.app, this.d.clock.now());
      if (await this.d.store.cards.recordShown(c.card_key, c.status, hash, this.d.clock.now())) return c;
      // Stopped or restarted while the send was in flight: show what it is now.
      c = await this.d.store.cards.get(c.card_key);
    }
    if (c) this.d.logger?.warn({ card: c.card_key }, 'card kept changing under the round; left for the next one');
    return c;
  }

  /**
   * A send refused for good ends the card only when the message can no longer be edited (recalled,
   * deleted, too old, not found). Anything else keeps it owed: tried again with backoff (up to ten
   * minutes), and one that waits for the admin (a scope, an authorisation, a quota) also tells the
   * admin and keeps trying until it is fixed; the others give up after MAX_CARD_FAILURES.
   */
  private async sendFailed(c: CardRow, er: TaskbotError, later: (at: number) => void): Promise<CardRow | undefined> {
    if (er.code !== 'CARD_GONE' && (await retryLater(this.d, c, er, later, true))) return c;
    this.d.logger?.warn({ code: er.code, err: er.toJSON(), card: c.card_key, failures: c.fail_count + 1 }, 'card can no longer be updated; its watch ends');
    return (await this.d.store.cards.transition(c.card_key, sourcesOf('gone'), 'gone')) ?? this.d.store.cards.get(c.card_key);
  }

  /** One card as `view` shows it, in its status now, ready to answer a press with. */
  draw(c: CardRow & { waiting?: number }, view: RoundView): InlineCard {
    const model = drawCard(c, view, this.d.timeZone);
    return { model, status: c.status, hash: cardHash(model) };
  }

  /** Sends an update; a card refused for its content is sent once more, smaller. Resolves with the failure, if any. */
  private async sendOrCompact(card: CardRow, model: CardModel, lane: SendLane): Promise<TaskbotError | undefined> {
    try {
      await this.send(card, model, lane);
      return undefined;
    } catch (e) {
      const er = asTaskbotError(e);
      if (er.code !== 'CARD_REJECTED') return er;
      this.d.logger?.warn({ err: er.toJSON(), card: card.card_key }, 'the platform refused the card; sending a smaller one');
      return this.send(card, compactCard(model), lane).then(
        () => undefined,
        (e2: unknown) => asTaskbotError(e2),
      );
    }
  }

  private async send(card: CardRow, model: CardModel, lane: SendLane): Promise<void> {
    const messenger = messengerOf(this.d.messengers, card.app);
    this.d.onSend?.(lane);
    await messenger.update(handleOf(card), model, lane);
  }
}

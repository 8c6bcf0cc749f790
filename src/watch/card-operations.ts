import { parseHistory } from '../domain/eta.js';
import type { CardModel } from '../domain/card.js';
import { RESTARTABLE, type CardStatus } from '../domain/card-status.js';
import type { CardHandle, ChatRef } from '../domain/chat.js';
import type { Clock } from '../domain/clock.js';
import type { Locale } from '../domain/locale.js';
import { snapshotFromJson } from '../domain/snapshot-json.js';
import { isTerminal, type TaskRef, type TaskSnapshot } from '../domain/task.js';
import type { CardRow, Store } from '../store/store.js';
import type { QueuedCard } from './card-queue.js';
import { BUSY, type Intent } from './intent.js';
import type { InlineCard } from './card-drawing.js';
import type { CardLifecycle, CardOrigin } from './lifecycle.js';

/** What Refresh restarts without asking who may: expired and failed cards (a stopped one was someone's decision). */
const NOT_STOPPED: readonly CardStatus[] = RESTARTABLE.filter((s) => s !== 'stopped');

/**
 * `fresh` carries the new card when it was asked for inline and this call could give it; `busy`:
 * another holder has the task and will update the card; `ended`: the card shows a final state;
 * `unknown`: not a card we track. `blocked`: updates to the card wait for the admin (what for).
 * `peeked`: the card stays stopped; it shows the task's state once.
 */
export type RefreshResult =
  | (({ status: 'fresh'; card?: CardModel; peeked?: true } | { status: 'busy' } | { status: 'ended' }) & { blocked?: string })
  | { status: 'unknown' };
/** `stopped` carries the stopped card when it was asked for inline and this call could give it. */
export type StopResult = { status: 'stopped'; card?: CardModel } | { status: 'ended' } | { status: 'unknown' };
/** `on`/`off`: whether the person now waits; `inactive`: the card is stopped or expired (Refresh first). */
export type NotifyResult = { status: 'on' | 'off'; card?: CardModel } | { status: 'ended' } | { status: 'inactive' } | { status: 'unknown' };

export interface CardOperationsDeps {
  store: Pick<Store, 'cards' | 'tasks'>;
  life: Pick<CardLifecycle, 'track' | 'toggleWaiting' | 'stop' | 'restart' | 'draw' | 'commitInline' | 'inlineLost'>;
  tasks: { fetchRef(ref: TaskRef, o?: { interactive?: boolean }): Promise<TaskSnapshot> };
  clock: Clock;
  minPollMs: number;
  /** Runs an intent on the task under its lease; BUSY when another holds it (who is told to look again soon). */
  work(taskKey: string, intent: Intent): Promise<InlineCard | undefined | typeof BUSY>;
  /** Offers a card's update to its platform's card queue. */
  offer(app: string, card: QueuedCard): void;
}

/**
 * What people and scripts do to cards (docs/architecture.md): start watching one, Refresh, Stop,
 * Notify me, `stop <id>`. Each changes the card's status through the lifecycle (a conditional
 * write), then runs its intent on the task under the task's lease.
 */
export class CardOperations {
  constructor(private readonly d: CardOperationsDeps) {}

  /** Starts watching a card that was just sent showing `snap`. A finished task is recorded, not watched. */
  track(handle: CardHandle, snap: TaskSnapshot, locale: Locale, rendered: CardModel, o: CardOrigin = {}): Promise<void> {
    return this.d.life.track(handle, snap, locale, rendered, this.d.minPollMs, o);
  }

  /** `userId` waits for the card's task to end (`status … notify`, the script API); false when the card is not active. */
  async subscribe(key: string, userId: string): Promise<boolean> {
    return (await this.d.life.toggleWaiting(key, userId, 'on')) === 'on';
  }

  /**
   * The Notify me button: toggles `userId` waiting on the card, and draws the card again (its
   * count of people waiting), inline when asked and this call could give it.
   */
  async toggleNotify(key: string, userId: string, opts: { inline: boolean }): Promise<NotifyResult> {
    const card = await this.d.store.cards.get(key);
    if (!card) return { status: 'unknown' };
    const now = await this.d.life.toggleWaiting(key, userId);
    if (!now) return { status: card.status === 'done' || card.status === 'gone' ? 'ended' : 'inactive' };
    const model = await this.d.work(card.task_key, { kind: 'redraw', cards: [key], lane: 'people', ...(opts.inline && { inline: key }) });
    return model === BUSY || !model ? { status: now } : { status: now, card: model.model };
  }

  /**
   * Refresh: poll the card's task now, restarting an expired or failed card, and a stopped one
   * only when `mayResume` says so (asked only then); anyone else's Refresh of a stopped card shows
   * the task's state on it once and it stays stopped. Decided by the conditional write itself, so
   * a Stop landing meanwhile is never undone by someone who may not undo it.
   */
  async refresh(key: string, opts: { inline: boolean; mayResume?: () => Promise<boolean> }): Promise<RefreshResult> {
    const card = await this.d.store.cards.get(key);
    if (!card) return { status: 'unknown' };
    const idle = (await this.d.store.tasks.get(card.task_key))?.active === 0;
    let now = await this.d.life.restart(key, NOT_STOPPED);
    if (now?.status === 'stopped') {
      if (opts.mayResume && !(await opts.mayResume())) return this.peek(now);
      now = await this.d.life.restart(key);
    }
    if (!now) return { status: 'unknown' };
    // The truth about a card the platform refuses to update: it did not end, it waits for the admin.
    const blocked = now.last_error ? { blocked: now.last_error } : {};
    if (now.status !== 'active') return { status: 'ended', ...blocked };
    await this.d.store.tasks.makeDue(card.task_key, this.d.clock.now(), this.d.minPollMs, idle);
    const fresh = await this.d.work(card.task_key, { kind: 'refresh', card: key, inline: opts.inline });
    if (fresh === BUSY) return { status: 'busy', ...blocked };
    // No inline card when it moved meanwhile (stopped): it would land after the stop.
    return { status: 'fresh', ...(fresh && { card: fresh.model }), ...blocked };
  }

  /**
   * A stopped card's Refresh by someone who may not resume it: the task's current state, drawn
   * once on the card as it stands (stopped) and answered inline (`peeked`); the card stays stopped.
   */
  private async peek(card: CardRow): Promise<RefreshResult> {
    const task = await this.d.store.tasks.get(card.task_key);
    if (!task) return { status: 'unknown' };
    const stored = snapshotFromJson(task.snapshot);
    const snap = isTerminal(stored.state) ? stored : await this.d.tasks.fetchRef(stored.ref, { interactive: true });
    const inline = this.d.life.draw(card, { snap, target: 'active', live: null, history: parseHistory(task.history) });
    // Shown only if the card is still stopped when answered (else the next round draws what it is).
    return (await this.d.life.commitInline(card.card_key, inline)) ? { status: 'fresh', card: inline.model, peeked: true } : { status: 'busy' };
  }

  /** Stop on one card (its button, the API). The stopped card is answered inline when asked, else sent. */
  async stopCard(key: string, opts: { inline: boolean }): Promise<StopResult> {
    const card = await this.d.life.stop(key);
    if (!card) return { status: 'unknown' };
    if (card.status !== 'stopped') return { status: 'ended' };
    if (card.shown === 'stopped') return { status: 'stopped' }; // pressed twice
    const model = await this.d.work(card.task_key, { kind: 'stop', card: key, inline: opts.inline });
    // Another round holds the task: it shows the stopped card as soon as it has finished.
    return model === BUSY || !model ? { status: 'stopped' } : { status: 'stopped', card: model.model };
  }

  /**
   * `stop <id> [kind]` in a chat: every active card of that task (of that kind, when named) in the
   * chat stops, of those `may` allows (who may stop each is the policy's: commands/rights.ts).
   */
  async stopInChat(chat: ChatRef, taskId: string, kind?: string, may: (c: CardRow) => Promise<boolean> = async () => true): Promise<number> {
    const cards = await this.d.store.cards.activeOfTask(chat.app, chat.chatId, taskId, kind);
    let stopped = 0;
    for (const c of cards) if ((await may(c)) && (await this.stopCard(c.card_key, { inline: false })).status === 'stopped') stopped++;
    return stopped;
  }

  /** An inline answer (a button's) could not be given in time: the card gets it as an update instead, first in line. */
  async inlineLost(key: string, model: CardModel): Promise<void> {
    await this.d.life.inlineLost(key, model);
    const c = await this.d.store.cards.get(key);
    const now = this.d.clock.now();
    if (c) this.d.offer(c.app, { key, taskKey: c.task_key, lane: 'people', shownAt: c.last_update_at ?? now, notBefore: this.d.clock.mono(), hash: '' });
  }
}

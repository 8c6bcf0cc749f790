import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import { asTaskbotError, ERROR_CODES, type ErrorCode, type TaskbotError } from '../domain/errors.js';
import { addSample, estimate, parseHistory } from '../domain/eta.js';
import { snapshotFingerprint, snapshotFromJson, snapshotToJson } from '../domain/snapshot-json.js';
import { computeProgress, isTerminal, type TaskRef, type TaskSnapshot } from '../domain/task.js';
import type { CardRow, TaskRow, WatchedCard } from '../store/store.js';
import type { TaskPatch } from '../store/tasks.js';
import { nextPollDelay } from './backoff.js';
import type { CardQueue } from './card-queue.js';
import { cardsOf, inlineOf, type Intent } from './intent.js';
import type { InlineCard, RoundView } from './card-drawing.js';
import type { CardLifecycle, Delivery } from './lifecycle.js';
import type { PollBudget } from './poll-budget.js';
import { pollDelay } from './poll-plan.js';

/** Errors after which watching cannot help: the card shows the error and the watch ends. */
const ENDS_WATCH: ReadonlySet<ErrorCode> = new Set(['TASK_NOT_FOUND', 'INVALID_TASK_ID', 'INVALID_ARGUMENT', 'PERMISSION_DENIED', 'NOT_CONFIGURED']);
/** An ended task whose cards wait in this replica's queue is looked at again after this (sooner when the replica is seen gone). */
const OWED_RECHECK_MS = 30_000;
/** Consecutive transient failures before the card says it is retrying. */
const RETRY_NOTE_AFTER = 3;

export interface PassDeps {
  tasks: { fetchRef(ref: TaskRef, o?: { interactive?: boolean }): Promise<TaskSnapshot> };
  cards: { work(taskKey: string, only?: readonly string[]): Promise<WatchedCard[]> };
  life: Pick<CardLifecycle, 'settle' | 'commitInline'>;
  budget: Pick<PollBudget, 'take'>;
  clock: Clock;
  options: { minPollMs: number; maxPollMs: number; giveUpMs: number };
  /** The engine holding the task's lease: the queued cards' holder (`held_by`). */
  owner: string;
  stats: { fetches: number; deferred: number };
  logger?: Logger;
}

/** What a pass leaves: the one write of the task's row, as of `at`, and the rendering to answer a press with. */
export interface PassResult {
  at: number;
  patch: TaskPatch;
  inline?: InlineCard;
}

/**
 * One pass over a task for an intent, under the task's lease: poll it when an active card wants
 * news (never when it has ended, or only ended cards owe a rendering), else draw from what is
 * stored; bring its cards to what that shows (through `how`); and say in one patch what the
 * task's row becomes. The queue is told which finals to keep room for.
 */
export async function taskPass(d: PassDeps, task: TaskRow, intent: Intent, how: Delivery, queue?: Pick<CardQueue, 'expectEnd'>): Promise<PassResult> {
  const only = cardsOf(intent);
  const cards = await d.cards.work(task.task_key, only);
  const stored = snapshotFromJson(task.snapshot);
  if (only || isTerminal(stored.state) || !cards.some((c) => c.status === 'active')) return redraw(d, task, intent, cards, stored, how, queue);
  return poll(d, task, intent, cards, how, queue);
}

/** The cards drawn from the stored snapshot: ended ones owing their last rendering, or just the intent's. */
async function redraw(
  d: PassDeps,
  task: TaskRow,
  intent: Intent,
  cards: WatchedCard[],
  stored: TaskSnapshot,
  how: Delivery,
  queue?: Pick<CardQueue, 'expectEnd'>,
): Promise<PassResult> {
  const at = d.clock.now();
  const only = cardsOf(intent);
  const inlineKey = inlineOf(intent);
  const terminal = isTerminal(stored.state);
  const history = parseHistory(task.history);
  // Active cards drawn again only when asked to (a redraw); otherwise left as they are.
  const live = intent.kind === 'redraw' ? (task.error_count >= RETRY_NOTE_AFTER ? 'retrying' : 'live') : null;
  const est = live ? estimate(history, at) : undefined;
  const view: RoundView = {
    snap: stored,
    target: terminal ? 'done' : 'active',
    live,
    history,
    ...(inlineKey && { inlineKey }),
    ...errorOf(task),
    ...(est && { estimate: est }),
  };
  const pass = await d.life.settle(cards, view, how);
  const inline = await committed(d, pass.inline, inlineKey, intent.kind === 'stop');
  // Ended, or no card left watching it: it will want no finals the queue should keep room for.
  if (!only) queue?.expectEnd(task.task_key, undefined);
  // Cards offered to the queue are the queue's now (held_by): the task is looked at again late,
  // or as soon as this replica is seen gone (app/presence.ts).
  const due = only ? Math.min(task.next_due_at, pass.retryAt ?? Infinity) : (pass.retryAt ?? at + (pass.queued ? OWED_RECHECK_MS : task.backoff_ms));
  return { at, inline, patch: { next_due_at: due, ...(!only && { held_by: pass.queued ? d.owner : null }) } };
}

/** The task read upstream (within the poll budget, unless a person asked) and its cards brought to what it says. */
async function poll(d: PassDeps, task: TaskRow, intent: Intent, cards: CardRow[], how: Delivery, queue?: Pick<CardQueue, 'expectEnd'>): Promise<PassResult> {
  const at = d.clock.now();
  const inlineKey = inlineOf(intent);
  const ref: TaskRef = {
    app: task.app,
    platform: task.platform,
    kind: task.kind as TaskRef['kind'],
    id: task.task_id,
    ...(task.operator && { operator: task.operator }),
  };
  // A person's Refresh is not a background poll: it never waits for the budget (it is charged to it).
  const interactive = intent.kind === 'refresh';
  const slot = interactive ? ({ ok: true } as const) : d.budget.take(task.app, `${task.platform}:${task.kind}`, task.task_key, d.clock.mono());
  if (!slot.ok) {
    // Over the API's poll budget this second: due again when it has room (people's calls go first).
    d.stats.deferred++;
    return { at, patch: { next_due_at: at + slot.waitMs } };
  }
  let snap: TaskSnapshot;
  try {
    d.stats.fetches++;
    snap = await d.tasks.fetchRef(ref, { interactive });
  } catch (e) {
    return failed(d, task, cards, asTaskbotError(e), how, inlineKey);
  }
  const history = parseHistory(task.history);
  const fingerprint = snapshotFingerprint(snap);
  const changed = fingerprint !== task.snapshot_hash;
  const ended = isTerminal(snap.state);
  const expired = !ended && at - task.created_at >= d.options.giveUpMs;
  const samples = addSample(history, at, computeProgress(snap));
  const est = ended ? undefined : estimate(samples, at);
  const view: RoundView = {
    snap,
    target: ended ? 'done' : expired ? 'expired' : 'active',
    live: 'live',
    history: samples,
    ...(inlineKey && { inlineKey }),
    ...(est && { estimate: est }),
  };
  const pass = await d.life.settle(cards, view, how);
  const inline = await committed(d, pass.inline, inlineKey);
  // The queue keeps room in the minute for the finals this task's cards will want.
  const eta = est?.kind === 'eta' ? est : undefined;
  queue?.expectEnd(task.task_key, eta && d.clock.mono() + eta.remainingMs, eta ? cards.filter((c) => c.status === 'active').length : 0);
  const { minPollMs, maxPollMs } = d.options;
  const backoff = nextPollDelay(task.backoff_ms, changed, minPollMs, maxPollMs);
  // Ended (or given up) with its last renderings queued: they are the queue's now (see redraw).
  const next =
    view.target !== 'active' && pass.queued
      ? OWED_RECHECK_MS
      : pollDelay({ backoffMs: backoff, estimate: est, interested: (task.interest_until ?? 0) > at, minMs: minPollMs, maxMs: maxPollMs });
  const patch: TaskPatch = {
    snapshot: snapshotToJson(snap),
    snapshot_hash: fingerprint,
    next_due_at: Math.min(at + next, pass.retryAt ?? Infinity),
    backoff_ms: backoff,
    last_changed_at: changed ? at : task.last_changed_at,
    error_count: 0,
    last_error: null,
    history: JSON.stringify(samples),
    held_by: pass.queued ? d.owner : null,
  };
  return { at, inline, patch };
}

/** A failed poll: transient errors back off (and after a few, say so on the card); the rest end the watch. */
async function failed(d: PassDeps, task: TaskRow, cards: CardRow[], err: TaskbotError, how: Delivery, inlineKey?: string): Promise<PassResult> {
  const at = d.clock.now();
  const ends = ENDS_WATCH.has(err.code);
  d.logger?.[ends ? 'warn' : 'info']({ code: err.code, err: err.toJSON(), task: task.task_key }, ends ? 'watch ended by an error' : 'poll failed; backing off');
  const errors = task.error_count + 1;
  // The 24 h give-up counts while the upstream fails, too.
  const expired = !ends && at - task.created_at >= d.options.giveUpMs;
  const view: RoundView = {
    snap: snapshotFromJson(task.snapshot),
    target: ends ? 'error' : expired ? 'expired' : 'active',
    live: errors >= RETRY_NOTE_AFTER || inlineKey ? 'retrying' : null,
    errorCode: err.code,
    ...(inlineKey && { inlineKey }),
  };
  const pass = await d.life.settle(cards, view, how);
  const inline = await committed(d, pass.inline, inlineKey);
  const backoff = nextPollDelay(task.backoff_ms, false, d.options.minPollMs, d.options.maxPollMs);
  // Rate limits say how long to wait; never come back sooner.
  const wait = Math.max(backoff, err.details.retryAfterMs ?? 0);
  return { at, inline, patch: { next_due_at: Math.min(at + wait, pass.retryAt ?? Infinity), backoff_ms: backoff, error_count: errors, last_error: err.code } };
}

/**
 * An inline answer is recorded as shown while the lease is still held, so no other holder sends
 * the same rendering meanwhile; undefined when it no longer fits (the card moved) or, `news`, when
 * the card shows it already (another press drew it).
 */
async function committed(d: PassDeps, inline: InlineCard | undefined, key: string | undefined, news = false): Promise<InlineCard | undefined> {
  return inline && key && (await d.life.commitInline(key, inline, news)) ? inline : undefined;
}

/** The error an ended card names when it is drawn again (its task's last error). */
function errorOf(task: TaskRow): { errorCode?: ErrorCode } {
  const code = task.last_error as ErrorCode | null;
  return code && ERROR_CODES.includes(code) ? { errorCode: code } : {};
}

import type { Logger } from 'pino';
import type { Messengers } from '../domain/chat.js';
import type { Clock } from '../domain/clock.js';
import type { LimitShare } from '../domain/limit-share.js';
import type { TaskRef, TaskSnapshot } from '../domain/task.js';
import type { Store } from '../store/store.js';
import { MAX_POLL_MS, MIN_POLL_MS, WATCH_GIVE_UP_MS } from './backoff.js';
import { DEFAULT_POLL_BUDGET, type PollBudget } from './poll-budget.js';

/** The watch engine's settings and what it is built from (engine.ts). */
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
  messengers: Messengers;
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

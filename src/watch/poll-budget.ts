import { ALONE, sharedLimit, type LimitShare } from '../domain/limit-share.js';
import type { Platform } from '../domain/task.js';
import type { PollLine } from '../store/tasks.js';

/**
 * Background polls per app and upstream API, within a budget per second (each app has its own
 * limits; its replicas share them). Polling never
 * spends more than its share of an API's limit, so a person's `status` or Refresh never waits behind
 * the watch engine's polls: people's reads never wait for the budget, but are charged to it, so
 * the polls make room for them. Over the budget, polls
 * wait their turn first come, first served: a deferred task is given a slot before any newcomer
 * (alone; with replicas the store's due order is the line, see take()).
 */
export class PollBudget {
  private readonly recent = new Map<string, number[]>();
  /** Tasks waiting for a slot, per API, in the order they were turned away (with the turn they were given). */
  private readonly waiting = new Map<string, { key: string; turnAt: number }[]>();
  /** With replicas: how many polls were turned away, to spread their returns over the second. */
  private turnedAway = 0;

  /** `perSecond`: the budget of each API (e.g. `feishu:drive`) in each app; APIs not named are not limited. */
  constructor(
    private readonly perSecond: Readonly<Record<string, number>>,
    private readonly share: LimitShare = ALONE,
  ) {}

  /** Takes one poll of `app`'s `api` for task `key` at `now` (monotonic), or says how long until its turn. */
  take(app: string, api: string, key: string, now: number): { ok: true } | { ok: false; waitMs: number } {
    const budget = this.perSecond[api];
    if (budget === undefined) return { ok: true };
    const line = budgetLine(app, api);
    const share = this.share();
    const limit = sharedLimit(budget, share);
    const times = (this.recent.get(line) ?? []).filter((t) => now - t < 1000);
    this.recent.set(line, times);
    // A task that never came back for its turn (it ended, was stopped) gives it up.
    const queue = (this.waiting.get(line) ?? []).filter((w) => now - w.turnAt < GIVE_UP_TURN_MS);
    this.waiting.set(line, queue);
    const free = limit - times.length;
    if (share < 1) {
      // With replicas, whoever claims a task next polls it: a line here would hold slots for tasks
      // that come back to another replica (each replica's line full of the others' tasks starved them
      // all). The store's order is the line (the longest due first, and a replica with no poll left
      // claims none: full()); the turned-away come back as this window frees, spread over the second.
      if (free > 0) {
        times.push(now);
        return { ok: true };
      }
      const turnAt = Math.max(now + 1, times[0]! + 1000 + Math.floor((this.turnedAway++ % limit) * (1000 / budget)));
      return { ok: false, waitMs: turnAt - now };
    }
    let pos = queue.findIndex((w) => w.key === key);
    if (free > 0 && (pos === -1 ? queue.length < free : pos < free)) {
      if (pos >= 0) queue.splice(pos, 1);
      times.push(now);
      return { ok: true };
    }
    if (pos === -1) pos = queue.push({ key, turnAt: now }) - 1;
    // Slots free up as the polls of the last second age out; the pos-th waiting task gets the pos-th.
    const ageOut = times[pos % limit] ?? now;
    const turnAt = Math.max(now + 1, ageOut + 1000 + Math.floor(pos / limit) * 1000);
    queue[pos]!.turnAt = turnAt;
    return { ok: false, waitMs: turnAt - now };
  }

  /**
   * With replicas, the APIs of each app with no poll left this second here: a round leaves their
   * due tasks in the store (where another replica with room, or this one a moment later, takes
   * them) rather than claiming them only to turn them away.
   */
  full(now: number): PollLine[] {
    const share = this.share();
    // Alone, nobody else would take them, and the line orders them better than the store's due times.
    if (share >= 1) return [];
    const out: PollLine[] = [];
    for (const [line, times] of this.recent) {
      const [app, api] = line.split('\u0000') as [string, string];
      const budget = this.perSecond[api];
      if (budget === undefined) continue;
      let n = 0;
      for (const t of times) if (now - t < 1000) n++;
      const [platform, kind] = api.split(':') as [Platform, string];
      if (n >= sharedLimit(budget, share)) out.push({ app, platform, kind });
    }
    return out;
  }

  /** A person's read of `app`'s `api` reached upstream at `now`: it uses the budget too, so background polls make room. */
  charge(app: string, api: string, now: number): void {
    if (this.perSecond[api] === undefined) return;
    const line = budgetLine(app, api);
    const times = (this.recent.get(line) ?? []).filter((t) => now - t < 1000);
    times.push(now);
    this.recent.set(line, times);
  }
}

/** Each app's API has a budget of its own: one app's polls never take another's. */
const budgetLine = (app: string, api: string) => `${app}\u0000${api}`;

/** A waiting task that has not come back this long after its turn has left the line. */
const GIVE_UP_TURN_MS = 10_000;

/**
 * Default poll budgets, leaving the rest of each API's limit to people: Feishu's usual limit is
 * 50/s per app (contact v2 documents none; 20 here), drive task_check has a "special", lower one;
 * DingTalk allows 20 QPS per app and API.
 */
export const DEFAULT_POLL_BUDGET: Readonly<Record<string, number>> = {
  'feishu:contact': 20,
  'feishu:drive': 5,
  'dingtalk:storage': 10,
  'dingtalk:doc': 10,
};

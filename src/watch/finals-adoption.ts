import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import { LeaseLost, type LeaseKeeper } from '../domain/lease-keeper.js';
import type { LimitShare } from '../domain/limit-share.js';
import type { TaskRow } from '../store/store.js';
import type { TaskStore } from '../store/tasks.js';
import { mapLimit } from './map-limit.js';

/**
 * A replica holding the finals of this many ended tasks or fewer is about to run dry of them: it
 * looks for another replica's to take over. (Its queue's size says little: it also holds entries
 * for cards whose finals another replica holds, each skipped on its turn.)
 */
const LOW_WATER_TASKS = 1;
/** The most tasks taken at once. */
const ADOPT_AT_ONCE = 8;
/** How often a replica looks (the watch loop asks at every pass). */
const ADOPT_EVERY_MS = 1000;

export interface AdoptionDeps {
  tasks: Pick<TaskStore, 'queuedFinals' | 'adoptQueued'>;
  owner: string;
  clock: Clock;
  share: LimitShare | undefined;
  apps: readonly string[];
  leaseMs: number;
  concurrency: number;
  leases: Pick<LeaseKeeper, 'hold' | 'drop'>;
  /** A pass over a task taken (leased to this replica): its owed finals go to this replica's queue. */
  run: (task: TaskRow) => Promise<unknown>;
  logger?: Logger;
}

/**
 * Evens out the apps' queued finals across replicas: for each app whose finals here are about to
 * run out, when the replica holding most of its ended tasks' finals holds at least two more than
 * this one, half the difference (the last it queued) is taken over and queued here; its holder
 * skips them on their turn. Otherwise the replica that saw most tasks end drains alone at its
 * share of the app's limit while the others' shares go unused. Alone, there is nothing to do.
 */
export class FinalsAdoption {
  private next = -Infinity;

  constructor(private readonly d: AdoptionDeps) {}

  /** Looks, at most once every ADOPT_EVERY_MS. */
  async due(): Promise<void> {
    const now = this.d.clock.mono();
    if (now < this.next) return;
    this.next = now + ADOPT_EVERY_MS;
    await this.look();
  }

  /** Looks now; resolves with how many tasks were taken. */
  async look(): Promise<number> {
    const d = this.d;
    if ((d.share?.() ?? 1) >= 1) return 0;
    const held = await d.tasks.queuedFinals();
    let n = 0;
    for (const app of d.apps) {
      const ofApp = held.filter((h) => h.app === app);
      const mine = ofApp.find((h) => h.holder === d.owner)?.tasks ?? 0;
      const most = ofApp.filter((h) => h.holder !== d.owner).sort((a, b) => b.tasks - a.tasks)[0];
      if (mine > LOW_WATER_TASKS || !most || most.tasks - mine < 2) continue;
      const now = d.clock.now();
      const asked = d.clock.mono();
      const take = Math.min(ADOPT_AT_ONCE, Math.floor((most.tasks - mine) / 2));
      const taken = await d.tasks.adoptQueued(app, most.holder, d.owner, now, now + d.leaseMs, take);
      n += taken.length;
      if (taken.length > 0) d.logger?.debug({ app, from: most.holder, tasks: taken.length }, 'took over queued finals from a busier replica');
      for (const t of taken) d.leases.hold(t.task_key, asked);
      await mapLimit(taken, d.concurrency, async (t) => {
        try {
          await d.run(t);
        } catch (e) {
          if (!(e instanceof LeaseLost)) d.logger?.error({ err: e, task: t.task_key }, 'could not queue the finals taken over');
        } finally {
          d.leases.drop(t.task_key);
        }
      });
    }
    return n;
  }
}

import { TaskbotError, isTaskbotError } from '../domain/errors.js';
import { KINDS_BY_PLATFORM, refKey, type Platform, type TaskKind, type TaskItem, type TaskRef, type TaskSnapshot } from '../domain/task.js';
import { systemClock, type Clock } from '../domain/clock.js';
import type { TaskProvider } from './provider.js';

/** A person's read (Refresh, `status`, the form) within this long of another read of the same task (a poll's too) is answered with it. */
export const FRESH_READ_MS = 1000;

export interface ReadOptions {
  /** A person is waiting (Refresh, `status`, the form), not the watch engine's background poll. */
  interactive?: boolean;
}

/** Where people's reads are counted, so background polls make room for them (watch/poll-budget.ts). */
export interface ReadBudget {
  charge(app: string, api: string, now: number): void;
}

/** What a task id of each kind looks like; a mismatch is INVALID_TASK_ID before any call. */
const ID_SHAPE: Record<TaskKind, { re: RegExp; hint: string }> = {
  contact: { re: /^[0-9a-f]{32}$/i, hint: '32 hexadecimal characters' },
  drive: { re: /^\d{1,24}$/, hint: 'digits only' },
  storage: { re: /^[A-Za-z0-9_-]{1,128}$/, hint: 'letters, digits, - and _' },
  doc: { re: /^[A-Za-z0-9_-]{1,128}$/, hint: 'letters, digits, - and _' },
};

export interface Lookup {
  /** The app asked through: its rights decide what it may read (DESIGN §8). */
  app: string;
  platform: Platform;
  id: string;
  /** An explicit kind always wins over the id's shape. */
  kind?: TaskKind;
  /** The DingTalk user on whose behalf storage tasks are read (unionId). */
  operator?: string;
  /** The same, looked up only if a storage task has to be asked (the lookup needs a permission). */
  operatorOf?: () => Promise<string | undefined>;
  /** A person asks (see ReadOptions). */
  interactive?: boolean;
}

/**
 * Picks the provider for an id (README, "Commands in chat"). Feishu: 32 hex → contact, digits → drive.
 * DingTalk: ask doc first (it needs nothing of the asker), then storage as the asker (their
 * unionId is looked up only then), and keep the one that does not answer "not found".
 *
 * Reads are coalesced: however many ask for one task at once (polls, Refresh presses, `status`,
 * the form), one upstream read is in flight; a person's read shortly after another (a poll's
 * included) is answered with it; people's reads that do reach upstream are counted in the poll
 * budget.
 */
export class TaskRegistry {
  private readonly providers = new Map<string, TaskProvider>();
  private readonly inFlight = new Map<string, Promise<TaskSnapshot>>();
  /** The last read of each task, oldest first (re-inserted when read again). */
  private readonly recent = new Map<string, { at: number; snap: TaskSnapshot }>();
  private readonly clock: Clock;

  /** `byApp`: each app's providers, built on its own client (its token, its base URL). */
  constructor(
    byApp: Readonly<Record<string, readonly TaskProvider[]>>,
    private readonly o: { clock?: Clock; budget?: ReadBudget } = {},
  ) {
    this.clock = o.clock ?? systemClock;
    for (const [app, list] of Object.entries(byApp)) {
      for (const p of list) this.providers.set(`${app}:${p.kind}`, p);
    }
  }

  /** The kinds to ask for this lookup, in order of preference; throws on an id no kind accepts. */
  candidates(l: Lookup): TaskKind[] {
    const id = l.id.trim();
    if (l.kind) {
      if (!KINDS_BY_PLATFORM[l.platform].includes(l.kind)) {
        throw new TaskbotError('INVALID_ARGUMENT', `"${l.kind}" is not a ${l.platform} task kind (use ${KINDS_BY_PLATFORM[l.platform].join(' or ')})`);
      }
      if (!ID_SHAPE[l.kind].re.test(id)) {
        throw new TaskbotError('INVALID_TASK_ID', `a ${l.kind} task id is ${ID_SHAPE[l.kind].hint}`, { taskId: id });
      }
      return [l.kind];
    }
    const kinds = KINDS_BY_PLATFORM[l.platform].filter((k) => ID_SHAPE[k].re.test(id));
    if (kinds.length === 0) {
      const shapes = KINDS_BY_PLATFORM[l.platform].map((k) => `${k}: ${ID_SHAPE[k].hint}`).join('; ');
      throw new TaskbotError('INVALID_TASK_ID', `not a ${l.platform} task id (${shapes})`, { taskId: id });
    }
    return kinds;
  }

  async fetch(l: Lookup): Promise<TaskSnapshot> {
    const kinds = this.candidates(l);
    const id = l.id.trim();
    // Storage is asked last: it is read as the asker, whose unionId costs a lookup and a permission.
    const ordered = [...kinds.filter((k) => k !== 'storage'), ...kinds.filter((k) => k === 'storage')];
    let skipped = false;
    for (const kind of ordered) {
      let operator = l.operator;
      if (kind === 'storage' && !operator) {
        operator = await l.operatorOf?.(); // a failed lookup (a missing permission) is the answer
        if (!operator) {
          skipped = true;
          continue;
        }
      }
      try {
        return await this.fetchRef({ app: l.app, platform: l.platform, kind, id, ...(operator && { operator }) }, { interactive: l.interactive === true });
      } catch (e) {
        const notThisKind = isTaskbotError(e, 'TASK_NOT_FOUND') || isTaskbotError(e, 'INVALID_TASK_ID');
        if (kinds.length === 1 || !notThisKind) throw e;
      }
    }
    const why = skipped ? ' (storage tasks are looked up as the user who started them: ask them to send the command)' : '';
    throw new TaskbotError('TASK_NOT_FOUND', `no ${l.platform} task has the id ${id}${why}`, { taskId: id, platform: l.platform });
  }

  /** One task, read upstream or joined to the read of it in flight (or, for a person, a fresh one). */
  async fetchRef(ref: TaskRef, o: ReadOptions = {}): Promise<TaskSnapshot> {
    // Storage tasks are read as a person: another person's read may answer differently.
    const key = `${refKey(ref)}\u0000${ref.operator ?? ''}`;
    const now = this.clock.mono();
    const last = this.recent.get(key);
    if (o.interactive && last && now - last.at < FRESH_READ_MS) return last.snap;
    const flying = this.inFlight.get(key);
    if (flying) return flying;
    const provider = this.provider(ref);
    if (o.interactive) this.o.budget?.charge(ref.app, `${ref.platform}:${ref.kind}`, now);
    const read = provider
      .fetch(ref)
      .then((snap) => {
        this.remember(key, snap);
        return snap;
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, read);
    return read;
  }

  private remember(key: string, snap: TaskSnapshot): void {
    const now = this.clock.mono();
    this.recent.delete(key);
    this.recent.set(key, { at: now, snap });
    // Only fresh reads are ever used: the stale ones at the front go.
    for (const [k, v] of this.recent) {
      if (now - v.at < FRESH_READ_MS) break;
      this.recent.delete(k);
    }
  }

  /** Every failed row of a task whose upstream lists them; NOT_SUPPORTED for the kinds that give only counts. */
  async failedRows(ref: TaskRef): Promise<TaskItem[]> {
    const p = this.provider(ref);
    if (!p.failedRows) throw new TaskbotError('INVALID_ARGUMENT', `${ref.kind} tasks do not list their rows`, { platform: ref.platform });
    return p.failedRows(ref);
  }

  private provider(ref: TaskRef): TaskProvider {
    const p = this.providers.get(`${ref.app}:${ref.kind}`);
    if (!p) throw new TaskbotError('NOT_CONFIGURED', `the app "${ref.app}" is not configured: set its credentials`, { platform: ref.platform, app: ref.app });
    return p;
  }
}

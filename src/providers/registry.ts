import { TaskbotError, isTaskbotError } from '../domain/errors.js';
import { KINDS_BY_PLATFORM, type Platform, type TaskKind, type TaskRef, type TaskSnapshot } from '../domain/task.js';
import type { TaskProvider } from './provider.js';

/** What a task id of each kind looks like; a mismatch is INVALID_TASK_ID before any call. */
const ID_SHAPE: Record<TaskKind, { re: RegExp; hint: string }> = {
  contact: { re: /^[0-9a-f]{32}$/i, hint: '32 hexadecimal characters' },
  drive: { re: /^\d{1,24}$/, hint: 'digits only' },
  storage: { re: /^[A-Za-z0-9_-]{1,128}$/, hint: 'letters, digits, - and _' },
  doc: { re: /^[A-Za-z0-9_-]{1,128}$/, hint: 'letters, digits, - and _' },
};

export interface Lookup {
  platform: Platform;
  id: string;
  /** An explicit kind always wins over the id's shape. */
  kind?: TaskKind;
  /** The DingTalk user on whose behalf storage tasks are read (unionId). */
  operator?: string;
}

/**
 * Picks the provider for an id (DESIGN §2). Feishu: 32 hex → contact, digits → drive.
 * DingTalk: ask storage (when the operator is known) and doc together and keep the one
 * that does not answer "not found".
 */
export class TaskRegistry {
  private readonly providers = new Map<string, TaskProvider>();

  constructor(byPlatform: Partial<Record<Platform, TaskProvider[]>>) {
    for (const [platform, list] of Object.entries(byPlatform)) {
      for (const p of list ?? []) this.providers.set(`${platform}:${p.kind}`, p);
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
    const refs: TaskRef[] = kinds.map((kind) => ({ platform: l.platform, kind, id, ...(l.operator && { operator: l.operator }) }));
    if (refs.length === 1) return this.fetchRef(refs[0]!);

    // Storage can only be asked on someone's behalf; without an operator only doc is asked.
    const askable = refs.filter((r) => r.kind !== 'storage' || r.operator);
    const results = await Promise.allSettled(askable.map((r) => this.fetchRef(r)));
    const found = results.find((r): r is PromiseFulfilledResult<TaskSnapshot> => r.status === 'fulfilled');
    if (found) return found.value;
    const errors = results.map((r) => (r as PromiseRejectedResult).reason as unknown);
    const real = errors.find((e) => !isTaskbotError(e, 'TASK_NOT_FOUND') && !isTaskbotError(e, 'INVALID_TASK_ID'));
    if (real) throw real;
    const skipped = askable.length < refs.length ? ' (storage tasks are looked up as the user who started them: ask them to send the command)' : '';
    throw new TaskbotError('TASK_NOT_FOUND', `no ${l.platform} task has the id ${id}${skipped}`, { taskId: id, platform: l.platform });
  }

  fetchRef(ref: TaskRef): Promise<TaskSnapshot> {
    const p = this.providers.get(`${ref.platform}:${ref.kind}`);
    if (!p) {
      return Promise.reject(new TaskbotError('NOT_CONFIGURED', `${ref.platform} is not configured: set its credentials`, { platform: ref.platform }));
    }
    return p.fetch(ref);
  }
}

import { TaskbotError, type ErrorCode } from '../../src/domain/errors.js';
import { refKey, type TaskRef, type TaskSnapshot, type TaskState } from '../../src/domain/task.js';

/** An in-process task source for watch tests: tasks move when the test says, fetches are counted. */
export class ScriptedTasks {
  private readonly tasks = new Map<string, { state: TaskState; done: number }>();
  /** Fetches per task key. */
  readonly fetches = new Map<string, number>();
  /** Task keys whose next fetches fail with this code. */
  readonly failWith = new Map<string, ErrorCode>();
  /** Awaited inside every fetch (to hold a round mid-poll). */
  gate: (key: string) => Promise<void> = async () => undefined;

  set(id: string, state: TaskState, done = 0): void {
    this.tasks.set(id, { state, done });
  }

  fetchCount(id: string): number {
    return this.fetches.get(`feishu:contact:${id}`) ?? 0;
  }

  totalFetches(): number {
    return [...this.fetches.values()].reduce((a, b) => a + b, 0);
  }

  async fetchRef(ref: TaskRef): Promise<TaskSnapshot> {
    const key = refKey(ref);
    this.fetches.set(key, (this.fetches.get(key) ?? 0) + 1);
    await this.gate(key);
    const code = this.failWith.get(key);
    if (code) throw new TaskbotError(code, 'scripted failure');
    return this.snapshot(ref.id);
  }

  snapshot(id: string): TaskSnapshot {
    const t = this.tasks.get(id);
    if (!t) throw new TaskbotError('TASK_NOT_FOUND', id);
    return {
      ref: { app: 'feishu', platform: 'feishu', kind: 'contact', id },
      state: t.state,
      total: 100,
      succeeded: t.done,
      failed: 0,
      label: 'add_user',
      fetchedAt: new Date(0),
    };
  }
}

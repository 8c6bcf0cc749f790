import type { TaskKind } from '../domain/task.js';

export type Outcome = 'succeeded' | 'partial' | 'failed';

/** A simulated upstream job: how it progresses and how it ends. */
export interface TaskScript {
  id: string;
  kind: TaskKind;
  total: number;
  outcome: Outcome;
  /** Reads (or ticks) spent queued before work starts. */
  queuedSteps?: number;
  /** Reads (or ticks) spent running, counts growing, before the end. */
  runningSteps?: number;
  /** 'poll': each read advances one step; a number: one step every so many ms. */
  advance?: 'poll' | number;
  /** For kinds that carry one: what the job is (contact: add_user / add_department). */
  label?: string;
  failMessage?: string;
  /** Contact tasks: what failed rows say (cycled through the failures), e.g. hostile names; default: generated. */
  failedRows?: { name?: string; msg?: string; email?: string; mobile?: string }[];
  /** Time-advanced scripts: start the clock at the first read, not at creation. */
  startOnFirstRead?: boolean;
}

export interface Progress {
  phase: 'queued' | 'running' | 'done';
  outcome: Outcome;
  /** How many reads/ticks in; contact v2 exposes it as its 0..8 status. */
  step: number;
  processed: number;
  succeeded: number;
  failed: number;
  percent: number;
  startedAt: Date;
  finishedAt?: Date;
}

/** Share of items that fail in a partial run (at least one). */
const PARTIAL_FAIL_SHARE = 0.2;

/** A task's scripted life: read its progress now; each read advances a poll-driven script. */
export class ScriptedTask {
  private reads = 0;
  createdAt: number;

  constructor(
    readonly script: TaskScript,
    private readonly now: () => number = Date.now,
  ) {
    this.createdAt = now();
  }

  read(): Progress {
    if (this.reads === 0 && this.script.startOnFirstRead) this.createdAt = this.now();
    const p = this.at(this.stepNow());
    this.reads++;
    return p;
  }

  private stepNow(): number {
    const a = this.script.advance ?? 'poll';
    // A task whose start is still ahead reads as not started.
    return a === 'poll' ? this.reads : Math.max(0, Math.floor((this.now() - this.createdAt) / a));
  }

  at(step: number): Progress {
    const { total, outcome } = this.script;
    const queued = this.script.queuedSteps ?? 1;
    const running = this.script.runningSteps ?? 3;
    const startedAt = new Date(this.createdAt);
    const failShare = outcome === 'succeeded' ? 0 : PARTIAL_FAIL_SHARE;
    if (step < queued) return { phase: 'queued', outcome, step, processed: 0, succeeded: 0, failed: 0, percent: 0, startedAt };
    if (step < queued + running) {
      const processed = Math.floor((total * (step - queued + 1)) / (running + 1));
      const failed = Math.floor(processed * failShare);
      return { phase: 'running', outcome, step, processed, succeeded: processed - failed, failed, percent: pct(processed, total), startedAt };
    }
    const finishedAt = new Date(this.createdAt + 1000 * (queued + running));
    if (outcome === 'failed') {
      // The job aborts where it stood at its last running step.
      const last = this.at(queued + running - 1);
      return { ...last, phase: 'done', step, finishedAt };
    }
    const failed = outcome === 'partial' ? Math.max(1, Math.round(total * failShare)) : 0;
    return { phase: 'done', outcome, step, processed: total, succeeded: total - failed, failed, percent: 100, startedAt, finishedAt };
  }
}

function pct(n: number, total: number): number {
  return total > 0 ? Math.round((n / total) * 100) : 0;
}

/** A registry of scripted tasks by kind and id. */
export class ScriptedTasks {
  private readonly tasks = new Map<string, ScriptedTask>();

  constructor(private readonly now: () => number = Date.now) {}

  add(script: TaskScript): ScriptedTask {
    const t = new ScriptedTask(script, this.now);
    this.tasks.set(`${script.kind}:${script.id}`, t);
    return t;
  }

  /** The upstream forgets the task (it answers "not found" from now on). */
  remove(kind: TaskKind, id: string): void {
    this.tasks.delete(`${kind}:${id}`);
  }

  get(kind: TaskKind, id: string): ScriptedTask | undefined {
    return this.tasks.get(`${kind}:${id}`);
  }
}

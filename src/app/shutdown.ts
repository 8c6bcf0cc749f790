import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import { withDeadline } from '../domain/deadline.js';

/** How long a graceful stop waits for work in flight before it lets go of it: supervisors kill after ~10 s. */
export const SHUTDOWN_DEADLINE_MS = 8000;

/**
 * Runs the steps of a stop in order, all within one deadline: a step that outlives what is left
 * (a database that went silent) is logged and left behind, so a stop always ends in time.
 */
export async function stopWithin(deadlineMs: number, clock: Clock, log: Logger, steps: [string, () => Promise<unknown>][]): Promise<void> {
  const end = clock.mono() + deadlineMs;
  for (const [what, run] of steps) {
    const left = Math.max(0, end - clock.mono());
    try {
      await withDeadline(Promise.resolve().then(run), left);
    } catch (e) {
      log.warn({ step: what, err: e instanceof Error ? e.message : String(e) }, 'stopping: a step did not finish in time; left behind');
    }
  }
}

import type { Logger } from 'pino';
import { adminProblem, type TaskbotError } from '../domain/errors.js';

/**
 * Writes of an app that wait for the admin (a scope removed, an authorisation revoked, a quota
 * spent): told once in the log when it starts and once when a write goes through again, and kept
 * for the metrics meanwhile. The cards themselves wait, and go on by themselves once it is fixed.
 */
export class AdminAlerts {
  private readonly open = new Map<string, { problem: string; code: string; since: number }>();

  constructor(private readonly logger?: Logger) {}

  /** A write of `app` was refused for want of its admin; resolves with what the card keeps of it. */
  blocked(app: string, err: TaskbotError, now: number): string {
    const problem = adminProblem(err);
    if (this.open.get(app)?.problem !== problem) {
      this.open.set(app, { problem, code: err.code, since: now });
      this.logger?.error(
        { app, code: err.code, scopes: err.details.scopes, err: err.toJSON() },
        `taskbot cannot update the cards of the app ${app} until its admin acts (${problem}): the cards wait, retried every few minutes, and catch up by themselves once it is fixed`,
      );
    }
    return problem;
  }

  /** A write of `app` went through: whatever it waited for is fixed. */
  cleared(app: string, now: number): void {
    const was = this.open.get(app);
    if (!was) return;
    this.open.delete(app);
    this.logger?.warn({ app, problem: was.problem, waitedMs: now - was.since }, `the cards of the app ${app} update again: the admin fixed ${was.problem}`);
  }

  /** What waits for the admin now, per app (for /metrics). */
  current(): { app: string; code: string }[] {
    return [...this.open].map(([app, a]) => ({ app, code: a.code }));
  }
}

import type { Logger } from 'pino';
import { adminProblem, type TaskbotError } from '../domain/errors.js';
import type { Platform } from '../domain/task.js';

/**
 * Writes to a platform that wait for the admin (a scope removed, an authorisation revoked, a quota
 * spent): told once in the log when it starts and once when a write goes through again, and kept
 * for the metrics meanwhile. The cards themselves wait, and go on by themselves once it is fixed.
 */
export class AdminAlerts {
  private readonly open = new Map<Platform, { problem: string; code: string; since: number }>();

  constructor(private readonly logger?: Logger) {}

  /** A write to `platform` was refused for want of the admin; resolves with what the card keeps of it. */
  blocked(platform: Platform, err: TaskbotError, now: number): string {
    const problem = adminProblem(err);
    if (this.open.get(platform)?.problem !== problem) {
      this.open.set(platform, { problem, code: err.code, since: now });
      this.logger?.error(
        { platform, code: err.code, scopes: err.details.scopes, err: err.toJSON() },
        `taskbot cannot update cards on ${platform} until the admin acts (${problem}): the cards wait, retried every few minutes, and catch up by themselves once it is fixed`,
      );
    }
    return problem;
  }

  /** A write to `platform` went through: whatever it waited for is fixed. */
  cleared(platform: Platform, now: number): void {
    const was = this.open.get(platform);
    if (!was) return;
    this.open.delete(platform);
    this.logger?.warn({ platform, problem: was.problem, waitedMs: now - was.since }, `cards on ${platform} update again: the admin fixed ${was.problem}`);
  }

  /** What waits for the admin now, per platform (for /metrics). */
  current(): { platform: Platform; code: string }[] {
    return [...this.open].map(([platform, a]) => ({ platform, code: a.code }));
  }
}

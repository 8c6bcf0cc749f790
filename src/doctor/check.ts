import { asTaskbotError, type TaskbotError } from '../domain/errors.js';
import { httpRequest } from '../http/request.js';

/** One check of `taskbot doctor`: what it looked at, whether it passed, and what to do when not. */
export interface Check {
  group: string;
  name: string;
  ok: boolean;
  detail: string;
  /** What to do when it failed. */
  fix?: string;
}

/** The platform answered the probe, or refused it for a reason other than a missing permission. */
const permitted = (e: TaskbotError) => !['PERMISSION_DENIED', 'AUTH_FAILED', 'UPSTREAM_UNAVAILABLE', 'UPSTREAM_TIMEOUT', 'RATE_LIMITED'].includes(e.code);

/** Runs a harmless call; a missing permission names what to grant and where. */
export async function probe(group: string, name: string, call: () => Promise<unknown>, where: string): Promise<Check> {
  try {
    await call();
    return { group, name, ok: true, detail: 'granted' };
  } catch (e) {
    const err = asTaskbotError(e);
    if (permitted(err)) return { group, name, ok: true, detail: `granted (probe answered ${err.code})` };
    const scopes = err.details.scopes?.join(' | ');
    return {
      group,
      name,
      ok: false,
      detail: `${err.code}: ${err.message}`,
      fix:
        err.code === 'PERMISSION_DENIED'
          ? `grant ${scopes ?? 'the permission'} in ${where}, then publish the app again`
          : 'check the credentials and the network, then run doctor again',
    };
  }
}

/** Signed requests and schedules need a right clock: compare ours with the platform's Date header. */
export async function clock(group: string, url: string, json: unknown, timeoutMs: number): Promise<Check> {
  try {
    const res = await httpRequest({ url, method: 'POST', json, timeoutMs, endpoint: 'clock' });
    const theirs = Date.parse(res.headers.date ?? '');
    if (Number.isNaN(theirs)) return { group, name: 'clock', ok: true, detail: 'the platform sent no Date header to compare with' };
    const skew = Math.round((Date.now() - theirs) / 1000);
    return Math.abs(skew) <= 60
      ? { group, name: 'clock', ok: true, detail: `within ${Math.abs(skew)} s of the platform` }
      : {
          group,
          name: 'clock',
          ok: false,
          detail: `${skew} s off the platform's clock`,
          fix: 'synchronise the system clock (NTP): webhook signatures and digests depend on it',
        };
  } catch (e) {
    return { group, name: 'clock', ok: false, detail: asTaskbotError(e).message, fix: 'check the network' };
  }
}

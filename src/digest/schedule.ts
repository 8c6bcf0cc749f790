import { Cron } from 'croner';

export type ScheduleResult =
  | { ok: true; cron: string; spec: string; timeZone: string }
  | { ok: false; error: 'time' | 'zone' | 'cron' | 'usage'; input: string; reason?: string };

/** Digests more often than this would flood a chat. */
export const MIN_DIGEST_INTERVAL_MS = 5 * 60_000;

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * `daily 09:00 [tz]`, `weekdays 18:30 [tz]`, `cron "<expr>" [tz]` → a 5-field cron and its zone.
 * `args` are the words after `digest`, quotes already removed.
 */
export function parseSchedule(args: string[], defaultZone: string): ScheduleResult {
  const [mode, value, zone, ...rest] = args;
  if (!mode || !value || rest.length > 0) return { ok: false, error: 'usage', input: args.join(' ') };
  const timeZone = zone ?? defaultZone;
  if (!isTimeZone(timeZone)) return { ok: false, error: 'zone', input: timeZone };
  const m = mode.toLowerCase();
  if (m === 'daily' || m === 'weekdays' || m === '每天' || m === '工作日') {
    const t = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(value);
    if (!t) return { ok: false, error: 'time', input: value };
    const [h, min] = [Number(t[1]), Number(t[2])];
    const weekdays = m === 'weekdays' || m === '工作日';
    const hhmm = `${String(h).padStart(2, '0')}:${String(min).padStart(2, '0')}`;
    return { ok: true, cron: `${min} ${h} * * ${weekdays ? '1-5' : '*'}`, spec: `${weekdays ? 'weekdays' : 'daily'} ${hhmm}`, timeZone };
  }
  if (m === 'cron') {
    const fields = value.trim().split(/\s+/);
    if (fields.length !== 5) return { ok: false, error: 'cron', input: value, reason: 'use 5 fields: minute hour day month weekday' };
    let cron: Cron;
    try {
      cron = new Cron(value, { timezone: timeZone, paused: true });
    } catch (e) {
      return { ok: false, error: 'cron', input: value, reason: e instanceof Error ? e.message : String(e) };
    }
    const runs = cron.nextRuns(3, new Date());
    if (runs.length === 0) return { ok: false, error: 'cron', input: value, reason: 'it never fires' };
    for (let i = 1; i < runs.length; i++) {
      if (runs[i]!.getTime() - runs[i - 1]!.getTime() < MIN_DIGEST_INTERVAL_MS) {
        return { ok: false, error: 'cron', input: value, reason: 'at most one digest every 5 minutes' };
      }
    }
    return { ok: true, cron: fields.join(' '), spec: `cron "${fields.join(' ')}"`, timeZone };
  }
  return { ok: false, error: 'usage', input: args.join(' ') };
}

/** The first firing strictly after `after`. */
export function nextFire(cron: string, timeZone: string, after: number): number {
  const next = new Cron(cron, { timezone: timeZone, paused: true }).nextRun(new Date(after));
  if (!next) throw new Error(`cron "${cron}" never fires`);
  return next.getTime();
}

/** The latest firing at or before `now`, searching forward from `from` (a persisted next_fire_at). */
export function latestFireAtOrBefore(cron: string, timeZone: string, from: number, now: number): number | undefined {
  let latest: number | undefined;
  let t = from;
  // Bounded: a long outage of a frequent schedule only walks so far.
  for (let i = 0; i < 10_000 && t <= now; i++) {
    latest = t;
    t = nextFire(cron, timeZone, t);
  }
  return latest;
}

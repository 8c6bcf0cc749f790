import { Cron, CronPattern } from 'croner';
import { DateTime } from 'luxon';
import { isTimeZone } from '../domain/time-zone.js';

export type ScheduleResult =
  | { ok: true; cron: string; spec: string; timeZone: string }
  | { ok: false; error: 'time' | 'zone' | 'cron' | 'usage'; input: string; reason?: string };

/** Digests more often than this would flood a chat. */
export const MIN_DIGEST_INTERVAL_MS = 5 * 60_000;

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
    if (!cron.nextRun(new Date())) return { ok: false, error: 'cron', input: value, reason: 'it never fires' };
    const often = tooOften(fields, timeZone);
    if (often) return { ok: false, error: 'cron', input: value, reason: `at most one digest every 5 minutes, but it would fire ${often}` };
    return { ok: true, cron: fields.join(' '), spec: `cron "${fields.join(' ')}"`, timeZone };
  }
  return { ok: false, error: 'usage', input: args.join(' ') };
}

const DAY_MIN = 1440;
const FLOOR_MIN = MIN_DIGEST_INTERVAL_MS / 60_000;
const DAY_MS = 86_400_000;
/** How far ahead two firing days in a row are looked for (leap days included); the scheduler's own floor covers what lies beyond. */
const CONSECUTIVE_DAYS_HORIZON = 4 * 366;

const hhmm = (min: number) => `${String(Math.floor(min / 60)).padStart(2, '0')}:${String(min % 60).padStart(2, '0')}`;

/**
 * Where a 5-field cron fires less than MIN_DIGEST_INTERVAL_MS apart (said for the chat), or
 * undefined. Every firing day has the same times of day (croner's parsed minute and hour fields),
 * so their gaps are checked once for all days, and the gap across midnight wherever two firing
 * days follow each other (month and year ends too). The clock changes of DST can bring two times
 * closer on one night a year; the scheduler skips such a firing (see DigestScheduler).
 */
export function tooOften(fields: string[], timeZone: string, now = Date.now()): string | undefined {
  const p = new CronPattern(fields.join(' '));
  const times: number[] = [];
  for (let h = 0; h < 24; h++) if (p.hour[h]) for (let m = 0; m < 60; m++) if (p.minute[m]) times.push(h * 60 + m);
  for (let i = 1; i < times.length; i++) {
    if (times[i]! - times[i - 1]! < FLOOR_MIN) return `at ${hhmm(times[i - 1]!)} and again at ${hhmm(times[i]!)}`;
  }
  const [first, last] = [times[0]!, times[times.length - 1]!];
  if (first + DAY_MIN - last >= FLOOR_MIN) return undefined;
  // Only a day that fires followed by another that does brings the last time and the first this
  // close. Calendar days, from the chat's today, as midnights of a zone without DST.
  const days = new Cron(`0 0 ${fields.slice(2).join(' ')}`, { utcOffset: 0, paused: true });
  const date = (t: number) => new Date(t).toISOString().slice(0, 10);
  let day = Date.parse(`${DateTime.fromMillis(now, { zone: timeZone }).toISODate()}T00:00Z`);
  let fires = days.match(new Date(day));
  for (let i = 0; i < CONSECUTIVE_DAYS_HORIZON; i++, day += DAY_MS) {
    const firesNext = days.match(new Date(day + DAY_MS));
    if (fires && firesNext) return `at ${hhmm(last)} on ${date(day)} and again at ${hhmm(first)} on ${date(day + DAY_MS)}`;
    fires = firesNext;
  }
  return undefined;
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

import { DateTime } from 'luxon';
import { errorCard, noticeCard } from '../cards/notices.js';
import { reportBlocks } from '../digest/builder.js';
import { asTaskbotError } from '../domain/errors.js';
import { cardTexts } from '../i18n/card-texts.js';
import type { Answer, HandlerInput } from './deps.js';

const PERIODS: ReadonlyMap<string, Period> = new Map(
  Object.entries({
    today: 'today',
    今天: 'today',
    今日: 'today',
    yesterday: 'yesterday',
    昨天: 'yesterday',
    '7d': '7d',
    week: '7d',
    七天: '7d',
    '7天': '7d',
    本周: '7d',
  } as const),
);

export type Period = 'today' | 'yesterday' | '7d';

/**
 * The time window a period names, in `timeZone`'s calendar: days there are 23 or 25 hours long
 * when the clocks change, so days are counted with luxon (which reads the zone rules from Intl)
 * rather than as 24 h of milliseconds.
 */
export function periodWindow(period: Period, now: number, timeZone: string): { from: number; to: number } {
  const midnight = DateTime.fromMillis(now, { zone: timeZone }).startOf('day');
  if (period === 'today') return { from: midnight.toMillis(), to: now };
  if (period === 'yesterday') return { from: midnight.minus({ days: 1 }).toMillis(), to: midnight.toMillis() - 1 };
  return { from: DateTime.fromMillis(now, { zone: timeZone }).minus({ days: 7 }).toMillis(), to: now };
}

/** `reports [rule] [today|yesterday|7d]`: Feishu report submissions per rule in the period. */
export async function reportsCommand({ cmd, args, locale, deps }: HandlerInput): Promise<Answer> {
  const t = cardTexts(locale);
  if (cmd.platform !== 'feishu' || !deps.reports) return { card: noticeCard(locale, t.reportsFeishuOnly, { color: 'orange' }) };
  const periods = args.map((a) => PERIODS.get(a.toLowerCase())).filter(Boolean);
  const rules = args.filter((a) => !PERIODS.has(a.toLowerCase()));
  if (periods.length > 1 || rules.length > 1 || (rules[0] && !/^[\w-]{1,64}$/.test(rules[0]))) {
    return { card: noticeCard(locale, t.reportsUsage, { color: 'orange', type: 'error' }) };
  }
  const { timeZone } = deps.settings.of(cmd.app);
  const { from, to } = periodWindow(periods[0] ?? 'today', deps.clock.now(), timeZone);
  const window = { from: new Date(from), to: new Date(to), ...(rules[0] && { ruleId: rules[0] }) };
  try {
    const submissions = await deps.reports.submissions(cmd.app, window);
    return {
      card: { type: 'reports', locale, title: t.reportsTitle, color: 'blue', blocks: reportBlocks({ ...window, submissions }, locale, timeZone) },
    };
  } catch (e) {
    return { card: errorCard(asTaskbotError(e), locale) };
  }
}

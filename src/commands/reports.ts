import { errorCard, noticeCard } from '../cards/notices.js';
import { reportBlocks } from '../digest/builder.js';
import { asTaskbotError } from '../domain/errors.js';
import { cardTexts } from '../i18n/card-texts.js';
import type { Answer, HandlerInput } from './context.js';

const PERIODS: ReadonlyMap<string, 'today' | 'yesterday' | '7d'> = new Map(Object.entries({
  today: 'today', 今天: 'today', 今日: 'today',
  yesterday: 'yesterday', 昨天: 'yesterday',
  '7d': '7d', week: '7d', 七天: '7d', '7天': '7d', 本周: '7d',
} as const));

/** Midnight of `now`'s day in `timeZone`, as epoch ms. */
export function startOfDay(now: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', hour: 'numeric', minute: 'numeric', second: 'numeric' }).formatToParts(new Date(now));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return now - ((get('hour') * 60 + get('minute')) * 60 + get('second')) * 1000 - (now % 1000);
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
  const now = deps.clock.now();
  const midnight = startOfDay(now, deps.settings.timeZone);
  const period = periods[0] ?? 'today';
  const from = period === 'today' ? midnight : period === 'yesterday' ? midnight - 86_400_000 : now - 7 * 86_400_000;
  const to = period === 'yesterday' ? midnight - 1 : now;
  const window = { from: new Date(from), to: new Date(to), ...(rules[0] && { ruleId: rules[0] }) };
  try {
    const submissions = await deps.reports.submissions(window);
    return { card: { type: 'reports', locale, title: t.reportsTitle, color: 'blue', blocks: reportBlocks({ ...window, submissions }, locale, deps.settings.timeZone) } };
  } catch (e) {
    return { card: errorCard(asTaskbotError(e), locale) };
  }
}

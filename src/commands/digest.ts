import { noticeCard } from '../cards/notices.js';
import { formatTime } from '../cards/text.js';
import { parseSchedule } from '../digest/schedule.js';
import { fill } from '../i18n/messages.js';
import { cardTexts } from '../i18n/card-texts.js';
import type { Answer, HandlerInput } from './deps.js';
import { refusedFor } from './rights.js';

const OFF = new Set(['off', '关闭', '取消']);
const NOW = new Set(['now', '立即', '现在']);

/** `digest daily 09:00 [tz]` | `weekdays 18:30 [tz]` | `cron "<expr>" [tz]` | `off` | `now` | (nothing: show). */
export async function digestCommand(input: HandlerInput): Promise<Answer> {
  const { args, chat, locale, deps } = input;
  const t = cardTexts(locale);
  const tz = deps.settings.of(chat.app).timeZone;
  const when = (ms: number, zone: string) => `${formatTime(new Date(ms), zone).slice(0, 16)}`;
  const first = args[0]?.toLowerCase();

  if (first === undefined) {
    const d = await deps.digests.get(chat);
    return {
      card: noticeCard(
        locale,
        d ? fill(t.digestCurrent, { spec: d.spec, tz: d.time_zone, next: when(d.next_fire_at, d.time_zone) }) : `${t.digestNoneSet}\n${t.digestUsage}`,
      ),
    };
  }
  if (NOW.has(first)) {
    const d = await deps.digests.get(chat);
    const since = d?.last_fired_at ?? deps.clock.now() - 86_400_000;
    return { card: await deps.digests.build(chat, locale, d?.time_zone ?? tz, since) };
  }
  const refused = await refusedFor(input, 'configure');
  if (refused) return refused;
  if (OFF.has(first)) {
    await deps.digests.off(chat);
    return { card: noticeCard(locale, t.digestOff, { color: 'grey' }) };
  }
  const s = parseSchedule(args, tz);
  if (!s.ok) {
    const text = {
      time: fill(t.digestBadTime, { input: s.input }),
      zone: fill(t.digestBadZone, { input: s.input }),
      cron: fill(t.digestBadCron, { input: s.input, reason: s.reason ?? '' }),
      usage: t.digestUsage,
    }[s.error];
    return { card: noticeCard(locale, text.slice(0, 300), { color: 'orange', type: 'error' }) };
  }
  const next = await deps.digests.set(chat, s, locale);
  return { card: noticeCard(locale, fill(t.digestSet, { spec: s.spec, tz: s.timeZone, next: when(next, s.timeZone) }), { color: 'green' }) };
}

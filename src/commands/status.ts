import { errorCard, noticeCard } from '../cards/notices.js';
import { taskCard } from '../cards/task-card.js';
import { asTaskbotError } from '../domain/errors.js';
import { isTerminal, type TaskKind } from '../domain/task.js';
import { cardTexts } from '../i18n/card-texts.js';
import { fill } from '../i18n/messages.js';
import type { Locale } from '../domain/locale.js';
import { clip } from '../domain/card.js';
import { isPlatformUserId } from '../domain/user-id.js';
import { parseStatusArgs } from './parse.js';
import type { Answer, HandlerInput } from './deps.js';

/** The task `status` was given, or what is wrong with its words (no id, words left over). */
export function readStatusArgs(args: string[], locale: Locale): { id: string; kind?: TaskKind; notify?: true } | { problem: string } {
  const { extra, ...given } = parseStatusArgs(args);
  const t = cardTexts(locale);
  if (!given.id) return { problem: t.missingId };
  if (extra.length > 0) return { problem: fill(t.statusUsage, { input: clip(extra.join(' '), 40) }) };
  return { ...given, id: given.id };
}

/** `status <id> [kind]`: a live card, watched until the task ends. */
export async function statusCommand({ cmd, args, locale, prefs, deps }: HandlerInput): Promise<Answer> {
  const read = readStatusArgs(args, locale);
  if ('problem' in read) return { card: noticeCard(locale, read.problem, { color: 'orange', type: 'error' }) };
  const { id, kind, notify } = read;
  try {
    // A person's read: it joins a read of the task in flight, or one just made (the form's lookup, a poll).
    const snap = await deps.registry.fetch({
      app: cmd.app,
      platform: cmd.platform,
      id,
      ...(kind && { kind }),
      ...(cmd.operator && { operatorOf: cmd.operator }),
      interactive: true,
    });
    const live = !isTerminal(snap.state);
    // The asker waits for the end when they said `notify`, or the chat does that for everyone.
    const subscribe = live && (notify ?? prefs.notifyDefault ?? false) && isPlatformUserId(cmd.userId);
    const card = taskCard(snap, { locale, timeZone: deps.settings.of(cmd.app).timeZone, mode: live ? 'live' : 'final', ...(subscribe && { waiting: 1 }) });
    return { card, track: snap, ...(subscribe && { subscribe }) };
  } catch (e) {
    return { card: errorCard(asTaskbotError(e), locale) };
  }
}

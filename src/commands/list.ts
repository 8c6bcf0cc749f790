import { noticeCard } from '../cards/notices.js';
import { chatTasks, taskLine } from '../digest/builder.js';
import { cardTexts } from '../i18n/card-texts.js';
import type { Locale } from '../i18n/messages.js';
import type { Answer, HandlerInput } from './context.js';

const MAX_LINES = 20;
const ORDER = { running: 0, queued: 1, failed: 2, partial: 3, succeeded: 4 } as const;

/** `list`: the tasks tracked in this chat, running first. */
export async function listCommand({ chat, locale, deps }: HandlerInput): Promise<Answer> {
  const t = cardTexts(locale);
  return taskList(await deps.engine.chatCards(chat), locale, t.listTitle, t.listEmpty);
}

/** `mine` (and the bot menu's My tasks): the tasks the sender asked for, in any chat, running first. */
export async function mineCommand({ cmd, locale, deps }: HandlerInput): Promise<Answer> {
  const t = cardTexts(locale);
  return taskList(await deps.engine.cardsAskedBy(cmd.platform, cmd.userId), locale, t.mineTitle, t.mineEmpty);
}

function taskList(rows: { task_key: string; snapshot: string }[], locale: Locale, title: string, empty: string): Answer {
  const tasks = chatTasks(rows).sort((a, b) => ORDER[a.state] - ORDER[b.state]);
  if (tasks.length === 0) return { card: noticeCard(locale, empty, { title, type: 'list' }) };
  const items = tasks.slice(0, MAX_LINES).map((s) => taskLine(s, locale));
  return { card: { type: 'list', locale, title, color: 'blue', blocks: [{ type: 'list', items, more: Math.max(0, tasks.length - MAX_LINES) }] } };
}

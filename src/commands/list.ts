import { noticeCard } from '../cards/notices.js';
import { chatTasks, taskLine } from '../digest/builder.js';
import { cardTexts } from '../i18n/card-texts.js';
import type { Answer, HandlerInput } from './context.js';

const MAX_LINES = 20;
const ORDER = { running: 0, queued: 1, failed: 2, partial: 3, succeeded: 4 } as const;

/** `list`: the tasks tracked in this chat, running first. */
export async function listCommand({ chat, locale, deps }: HandlerInput): Promise<Answer> {
  const t = cardTexts(locale);
  const tasks = chatTasks(await deps.engine.chatCards(chat)).sort((a, b) => ORDER[a.state] - ORDER[b.state]);
  if (tasks.length === 0) return { card: noticeCard(locale, t.listEmpty, { title: t.listTitle, type: 'list' }) };
  const items = tasks.slice(0, MAX_LINES).map((s) => taskLine(s, locale));
  return {
    card: { type: 'list', locale, title: t.listTitle, color: 'blue', blocks: [{ type: 'list', items, more: Math.max(0, tasks.length - MAX_LINES) }] },
  };
}

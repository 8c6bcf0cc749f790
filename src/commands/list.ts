import { noticeCard } from '../cards/notices.js';
import { chatTasks, taskLine } from '../digest/builder.js';
import type { Block } from '../domain/card.js';
import { isTerminal } from '../domain/task.js';
import { cardTexts } from '../i18n/card-texts.js';
import { fill } from '../i18n/messages.js';
import type { Locale } from '../domain/locale.js';
import type { Answer, HandlerInput } from './deps.js';
import { refusedFor } from './rights.js';

const MAX_LINES = 20;
const ORDER = { running: 0, queued: 1, failed: 2, partial: 3, succeeded: 4 } as const;

/** `list`: the tasks tracked in this chat, running first. */
export async function listCommand({ chat, locale, deps }: HandlerInput): Promise<Answer> {
  const t = cardTexts(locale);
  return taskList(await deps.cards.overview({ app: chat.app, chatId: chat.chatId, endedLimit: MAX_LINES }), locale, t.listTitle, t.listEmpty);
}

/**
 * `mine` (and the bot menu's My tasks): the tasks the sender asked for, running first; in their
 * 1:1 chat from every chat, in a group only this group's (never another chat's in front of it).
 */
export async function mineCommand(input: HandlerInput): Promise<Answer> {
  const { cmd, chat, locale, deps } = input;
  const t = cardTexts(locale);
  const everywhere = !(await refusedFor(input, 'see-other-chats'));
  const rows = await deps.cards.overview({ app: cmd.app, askedBy: cmd.userId, ...(!everywhere && { chatId: chat.chatId }), endedLimit: MAX_LINES });
  return taskList(rows, locale, t.mineTitle, t.mineEmpty, everywhere ? undefined : t.mineGroupOnly);
}

/** Running tasks first, up to MAX_LINES; says how many running and ended ones it left out. */
function taskList(o: { cards: { task_key: string; snapshot: string }[]; tasks: number }, locale: Locale, title: string, empty: string, note?: string): Answer {
  const t = cardTexts(locale);
  const tasks = chatTasks(o.cards).sort((a, b) => ORDER[a.state] - ORDER[b.state]);
  if (tasks.length === 0) return { card: noticeCard(locale, note ? `${empty}\n${note}` : empty, { title, type: 'list' }) };
  const shown = tasks.slice(0, MAX_LINES);
  // Every active card was read, running ones go first; of the ended only the newest were read, the rest counted.
  const runningLeftOut = tasks.slice(MAX_LINES).filter((s) => !isTerminal(s.state)).length;
  const endedLeftOut = Math.max(0, o.tasks - shown.length - runningLeftOut);
  const blocks: Block[] = [{ type: 'list', items: shown.map((s) => taskLine(s, locale)), more: runningLeftOut }];
  if (endedLeftOut > 0) blocks.push({ type: 'text', text: fill(t.listLeftOut, { n: endedLeftOut }) });
  if (note) blocks.push({ type: 'text', text: note });
  return { card: { type: 'list', locale, title, color: 'blue', blocks } };
}

import type { TaskState } from '../domain/task.js';
import { renderMarkdown } from './markdown.js';
import type { CardModel } from '../domain/card.js';
import { plain } from './sanitize.js';
import { clipBytes } from './shrink.js';

/** DingTalk takes each cardParamMap value up to 1 KB. */
export const DINGTALK_PARAM_MAX_BYTES = 1000;

const STATES: readonly TaskState[] = ['queued', 'running', 'succeeded', 'partial', 'failed'];

/**
 * A neutral card as the cardParamMap of our DingTalk template (cards/dingtalk/template.json):
 * string values only, each within 1 KB, data escaped.
 */
export function renderCardParams(card: CardModel): Record<string, string> {
  const progress = card.blocks.find((b) => b.type === 'progress');
  const rest = { ...card, title: '', note: undefined, blocks: card.blocks.filter((b) => b.type !== 'progress') } as CardModel;
  // The body is the markdown of everything but title, progress and note, without its heading line.
  const body = renderMarkdown(rest, DINGTALK_PARAM_MAX_BYTES + 40).text.replace(/^### \S+ \n\n/, '');
  const fields = card.blocks.find((b) => b.type === 'fields');
  const actions = new Set(card.buttons?.map((b) => b.action));
  return {
    title: clipBytes(plain(card.title), DINGTALK_PARAM_MAX_BYTES),
    color: card.color,
    state: card.type === 'task' && fields?.type === 'fields' ? clipBytes(plain(fields.fields[0]?.value ?? ''), DINGTALK_PARAM_MAX_BYTES) : '',
    stateCode: card.state && STATES.includes(card.state) ? card.state : '',
    progress: progress?.type === 'progress' && progress.percent !== undefined ? String(progress.percent) : '',
    progressText: progress?.type === 'progress' ? clipBytes(plain(progress.text), DINGTALK_PARAM_MAX_BYTES) : '',
    body: clipBytes(body, DINGTALK_PARAM_MAX_BYTES),
    note: clipBytes(plain(card.note ?? ''), DINGTALK_PARAM_MAX_BYTES),
    showRefresh: String(actions.has('refresh')),
    showStop: String(actions.has('stop')),
    refreshLabel: plain(card.buttons?.find((b) => b.action === 'refresh')?.label ?? ''),
    stopLabel: plain(card.buttons?.find((b) => b.action === 'stop')?.label ?? ''),
    showNotify: String(actions.has('notify')),
    notifyLabel: plain(card.buttons?.find((b) => b.action === 'notify')?.label ?? ''),
  };
}

/** What the group's top box (吊顶, cards/dingtalk/taskbot-topbox.json) shows of a card: its head and progress. */
export const TOP_BOX_KEYS = ['title', 'color', 'state', 'stateCode', 'progress', 'progressText'] as const;

export function renderTopBoxParams(card: CardModel): Record<string, string> {
  const all = renderCardParams(card);
  return Object.fromEntries(TOP_BOX_KEYS.map((k) => [k, all[k] ?? '']));
}

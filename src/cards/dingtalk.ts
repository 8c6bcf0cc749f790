import type { TaskState } from '../domain/task.js';
import { renderMarkdown } from './markdown.js';
import type { CardModel, TrackForm } from '../domain/card.js';
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

/** What the Track a task form template (cards/dingtalk/taskbot-form.json) is sent. */
export const FORM_KEYS = ['title', 'form', 'form_status', 'form_btn_text', 'note'] as const;

/**
 * The Track a task form as the data of our form template: the card platform's Form component
 * draws the fields it is sent (form variables: TEXT, SELECT, CHECKBOX; the official example
 * 表单组件的使用与更新), named as Feishu's form names them. A hidden field carries the chat the
 * form was sent to, since DingTalk's card callback does not name the conversation.
 */
export function renderFormParams(f: TrackForm, chatId: string): Record<(typeof FORM_KEYS)[number], string> {
  const fields = [
    { name: 'chat', type: 'TEXT', hidden: true, defaultValue: chatId },
    { name: 'task_id', label: f.idLabel, type: 'TEXT', required: true, placeholder: f.idPlaceholder },
    {
      name: 'kind',
      label: f.kindLabel,
      type: 'SELECT',
      required: true,
      options: f.kinds.map((k) => ({ value: k.value, text: k.label })),
      defaultValue: { index: 0, value: f.kinds[0]?.value ?? 'detect' },
    },
    { name: 'notify', label: f.notifyLabel, type: 'CHECKBOX' },
  ];
  return {
    title: clipBytes(plain(f.title), DINGTALK_PARAM_MAX_BYTES),
    form: JSON.stringify({ fields }),
    form_status: 'normal',
    form_btn_text: plain(f.submitLabel),
    note: '',
  };
}

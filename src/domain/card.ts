import type { TaskState } from './task.js';
import type { Locale } from './locale.js';

/**
 * The neutral card: every answer taskbot gives is one of these, rendered per platform
 * (Feishu card JSON 2.0, the DingTalk template, markdown). Every string here is plain text:
 * renderers escape it for their format.
 */
export type CardColor = 'blue' | 'green' | 'red' | 'orange' | 'grey';

export type Block =
  | { type: 'fields'; fields: { label: string; value: string }[] }
  | { type: 'progress'; percent?: number; text: string }
  /** `folded`: shown closed where the platform can fold (Feishu's collapsible panel), opened by a tap. */
  | { type: 'list'; title?: string; items: string[]; more: number; folded?: boolean }
  | { type: 'text'; text: string }
  /**
   * Values over labels, drawn where the platform can chart (a Feishu chart), else as text (a
   * sparkline for a line, bars of blocks for bars). `max`: the top of the value axis.
   */
  | { type: 'chart'; kind: 'line' | 'bar'; title: string; points: { label: string; value: number }[]; max?: number };

export type ButtonAction = 'refresh' | 'stop' | 'notify' | 'export';
/** The action a submitted TrackForm carries. */
export const TRACK_ACTION = 'track';
export const BUTTON_ACTIONS: readonly ButtonAction[] = ['refresh', 'stop', 'notify', 'export'];

export interface CardButton {
  action: ButtonAction;
  label: string;
  style: 'primary' | 'default' | 'danger';
}

/**
 * A form to start tracking a task (Feishu's form container, DingTalk's form template): the task
 * id, its kind ("detect" or one of the platform's kinds), Notify me; submitting it is the `status`
 * command. A messenger that cannot show it leaves it out (the usage lines say the same).
 */
export interface TrackForm {
  title: string;
  idLabel: string;
  idPlaceholder: string;
  kindLabel: string;
  kinds: { value: string; label: string }[];
  notifyLabel: string;
  submitLabel: string;
}

export interface CardModel {
  type: 'task' | 'list' | 'digest' | 'reports' | 'help' | 'error' | 'notice';
  locale: Locale;
  title: string;
  color: CardColor;
  blocks: Block[];
  note?: string;
  buttons?: CardButton[];
  /** Task cards: which task the buttons act on, and its state. */
  taskKey?: string;
  state?: TaskState;
  /** Task cards: the last card of a watch (ended, stopped, expired or failed). */
  final?: boolean;
  form?: TrackForm;
}

/** Long upstream strings are cut before they reach a card. */
export function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

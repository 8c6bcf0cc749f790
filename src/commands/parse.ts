import type { TaskKind } from '../domain/task.js';

export const COMMANDS = ['status', 'list', 'mine', 'stop', 'pin', 'reports', 'digest', 'notify', 'lang', 'settings', 'chatid', 'help'] as const;
export type CommandName = (typeof COMMANDS)[number];

/** Every word that names a command (a Map: user text never reaches Object.prototype). */
export const ALIASES: ReadonlyMap<string, CommandName> = new Map(
  Object.entries({
    status: 'status',
    状态: 'status',
    查询: 'status',
    list: 'list',
    列表: 'list',
    mine: 'mine',
    我的任务: 'mine',
    我的: 'mine',
    stop: 'stop',
    停止: 'stop',
    pin: 'pin',
    置顶: 'pin',
    reports: 'reports',
    report: 'reports',
    汇报: 'reports',
    digest: 'digest',
    摘要: 'digest',
    notify: 'notify',
    提醒: 'notify',
    lang: 'lang',
    language: 'lang',
    语言: 'lang',
    settings: 'settings',
    设置: 'settings',
    chatid: 'chatid',
    群id: 'chatid',
    help: 'help',
    帮助: 'help',
    '?': 'help',
    '？': 'help',
  } satisfies Record<string, CommandName>),
);

export const KIND_WORDS: ReadonlyMap<string, TaskKind> = new Map(
  Object.entries({
    contact: 'contact',
    通讯录: 'contact',
    drive: 'drive',
    云空间: 'drive',
    云盘: 'drive',
    storage: 'storage',
    存储: 'storage',
    钉盘: 'storage',
    doc: 'doc',
    文档: 'doc',
  } satisfies Record<string, TaskKind>),
);

export type Parsed = { command: CommandName; args: string[] } | { command: 'unknown'; input: string; suggestion?: string } | { command: 'empty' };

/** Longest input we look at; anything past it is not a command of ours. */
const MAX_INPUT = 500;

/** Splits on white space, keeping "quoted phrases" (straight or Chinese quotes) together. */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|“([^”]*)”|(\S+)/g;
  for (const m of text.slice(0, MAX_INPUT).matchAll(re)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

/** Message text (mentions already removed by the platform layer) → a command. Never throws. */
export function parseCommand(text: string): Parsed {
  // Control characters never belong in a command.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: they are what this removes
  const clean = text.replace(/[\u0000-\u001f\u007f\u200b-\u200f\u2028\u2029\ufeff]/g, ' ').trim();
  const words = tokenize(clean);
  const first = words[0];
  if (first === undefined) return { command: 'empty' };
  const head = first.replace(/^[/／]/, '').toLowerCase();
  const command = ALIASES.get(head);
  if (command) return { command, args: words.slice(1) };
  const suggestion = closest(head);
  return { command: 'unknown', input: first.slice(0, 40), ...(suggestion && { suggestion }) };
}

/** The command word nearest to `word` by edit distance, if near enough to be a typo. */
function closest(word: string): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const alias of ALIASES.keys()) {
    const d = editDistance(word, alias);
    if (!best || d < best.d) best = { name: alias, d };
  }
  const allowed = word.length <= 3 ? 1 : 2;
  return best && best.d > 0 && best.d <= allowed ? best.name : undefined;
}

export function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The word that asks to be told when the task ends: `status <id> notify`. */
const NOTIFY_WORDS: ReadonlySet<string> = new Set(['notify', '提醒']);

/** `status <id> [kind] [notify]` or `status <kind> <id>`, words in any order after the command. */
export function parseStatusArgs(args: string[]): { id?: string; kind?: TaskKind; notify?: true; extra: string[] } {
  const word = (a: string) => KIND_WORDS.has(a.toLowerCase()) || NOTIFY_WORDS.has(a.toLowerCase());
  const kinds = args.filter((a) => KIND_WORDS.has(a.toLowerCase()));
  const notify = args.some((a) => NOTIFY_WORDS.has(a.toLowerCase()));
  const rest = args.filter((a) => !word(a));
  const kind = kinds[0] ? KIND_WORDS.get(kinds[0].toLowerCase()) : undefined;
  return {
    ...(rest[0] !== undefined && { id: rest[0] }),
    ...(kind && { kind }),
    ...(notify && { notify: true as const }),
    extra: [...rest.slice(1), ...kinds.slice(1)],
  };
}

const ON = new Set(['on', '开', '开启', '打开']);
const OFF = new Set(['off', '关', '关闭', '取消']);

/** on / off in either language; undefined for anything else. */
export function parseSwitch(word: string | undefined): boolean | undefined {
  const w = word?.toLowerCase();
  return w === undefined ? undefined : ON.has(w) ? true : OFF.has(w) ? false : undefined;
}

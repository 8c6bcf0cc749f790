import type { CardModel } from '../../src/domain/card.js';
import { errorCard, noticeCard } from '../../src/cards/notices.js';
import { taskCard } from '../../src/cards/task-card.js';
import { helpCard } from '../../src/commands/help.js';
import { digestCard, reportBlocks } from '../../src/digest/builder.js';
import { TaskbotError } from '../../src/domain/errors.js';
import type { TaskSnapshot } from '../../src/domain/task.js';
import type { Locale } from '../../src/domain/locale.js';
import { cardTexts } from '../../src/i18n/card-texts.js';

const TZ = 'Asia/Shanghai';
const at = (iso: string) => new Date(iso);

export const RUNNING_CONTACT: TaskSnapshot = {
  ref: { app: 'feishu', platform: 'feishu', kind: 'contact', id: '0123456789abcdef0123456789abcdef' },
  state: 'running',
  progress: 45,
  total: 200,
  succeeded: 80,
  failed: 10,
  startedAt: at('2026-11-21T01:00:00Z'),
  items: Array.from({ length: 12 }, (_, i) => ({
    name: `user_${i + 1}`,
    ok: false,
    code: '10013',
    message: 'invalid user_id',
    email: `user${i + 1}@example.com`,
    mobile: `1300000000${i % 10}`,
  })),
  label: 'add_user',
  fetchedAt: at('2026-11-21T01:05:00Z'),
};

export const FAILED_STORAGE: TaskSnapshot = {
  ref: { app: 'dingtalk', platform: 'dingtalk', kind: 'storage', id: 'mv-20261121', operator: 'union-1' },
  state: 'failed',
  progress: 30,
  total: 40,
  succeeded: 12,
  failed: 0,
  startedAt: at('2026-11-21T01:00:00Z'),
  finishedAt: at('2026-11-21T01:02:00Z'),
  failureReason: '目标文件夹不存在',
  label: 'storage_bulk_move',
  fetchedAt: at('2026-11-21T01:05:00Z'),
};

export const DONE_DRIVE: TaskSnapshot = {
  ref: { app: 'feishu', platform: 'feishu', kind: 'drive', id: '7360595374803812356' },
  state: 'succeeded',
  progress: 100,
  label: 'drive_folder_task',
  fetchedAt: at('2026-11-21T01:05:00Z'),
};

/** Progress samples of RUNNING_CONTACT: 0 to 45 % over nine minutes (two in one minute: the later is drawn). */
export const HISTORY: [number, number][] = [
  [Date.parse('2026-11-21T00:51:00Z'), 0],
  [Date.parse('2026-11-21T00:53:00Z'), 10],
  [Date.parse('2026-11-21T00:55:10Z'), 20],
  [Date.parse('2026-11-21T00:55:40Z'), 25],
  [Date.parse('2026-11-21T00:58:00Z'), 35],
  [Date.parse('2026-11-21T01:00:00Z'), 45],
];

/** Every card layout we send, in a locale: the golden files cover each. */
export function sampleCards(locale: Locale): Record<string, CardModel> {
  const o = { locale, timeZone: TZ };
  const since = at('2026-11-20T01:00:00Z');
  const submissions = [
    { taskId: '1', ruleName: '日报', fromUserName: '张三', commitTime: at('2026-11-20T10:00:00Z'), toUserNames: [], fields: [] },
    { taskId: '2', ruleName: '日报', fromUserName: '李四', commitTime: at('2026-11-20T11:00:00Z'), toUserNames: [], fields: [] },
    { taskId: '3', ruleName: '周报', fromUserName: '王五', commitTime: at('2026-11-20T12:00:00Z'), toUserNames: [], fields: [] },
  ];
  return {
    'task-live': taskCard(RUNNING_CONTACT, { ...o, mode: 'live' }),
    // Four minutes left by the estimate, two people waiting, a script's own title.
    'task-live-eta': taskCard(RUNNING_CONTACT, {
      ...o,
      mode: 'live',
      estimate: { kind: 'eta', fit: 1, remainingMs: 4 * 60_000 + 10_000 },
      waiting: 2,
      title: 'Nightly HR import',
      history: HISTORY,
    }),
    'task-live-stalled': taskCard(RUNNING_CONTACT, {
      ...o,
      mode: 'retrying',
      errorCode: 'UPSTREAM_TIMEOUT',
      estimate: { kind: 'stalled', sinceMs: 17 * 60_000 },
    }),
    'task-final': taskCard({ ...DONE_DRIVE }, { ...o, mode: 'final' }),
    'task-failed': taskCard(FAILED_STORAGE, { ...o, mode: 'final' }),
    'task-stopped': taskCard(RUNNING_CONTACT, { ...o, mode: 'stopped' }),
    'task-expired': taskCard(RUNNING_CONTACT, { ...o, mode: 'expired' }),
    'task-error': taskCard(RUNNING_CONTACT, { ...o, mode: 'error', errorText: 'TASK_NOT_FOUND' }),
    list: {
      type: 'list',
      locale,
      title: cardTexts(locale).listTitle,
      color: 'blue',
      blocks: [{ type: 'list', items: ['Contact 0123 · Running · 45%', 'Drive 7360 · Succeeded'], more: 0 }],
    },
    digest: digestCard([RUNNING_CONTACT, FAILED_STORAGE, DONE_DRIVE], { ...o, since, reports: { from: since, to: at('2026-11-21T01:00:00Z'), submissions } }),
    reports: {
      type: 'reports',
      locale,
      title: cardTexts(locale).reportsTitle,
      color: 'blue',
      blocks: reportBlocks({ from: since, to: at('2026-11-21T01:00:00Z'), submissions }, locale, TZ),
    },
    help: helpCard(locale, 'feishu', { input: 'stauts', suggestion: 'status' }),
    error: errorCard(
      new TaskbotError('PERMISSION_DENIED', 'the Feishu app lacks a scope', { scopes: ['drive:drive', 'drive:drive:readonly'], taskId: '42' }),
      locale,
    ),
    notice: noticeCard(locale, cardTexts(locale).digestOff, { color: 'grey' }),
  };
}

import { clip } from '../domain/card.js';
import type { ErrorCode } from '../domain/errors.js';
import type { TaskKind, TaskState } from '../domain/task.js';

import type { Locale } from '../domain/locale.js';

type Table = {
  state: Record<TaskState, string>;
  kind: Record<TaskKind, string>;
  label: Record<string, string>;
  error: Record<ErrorCode, string>;
  words: Record<
    | 'progress'
    | 'state'
    | 'counts'
    | 'started'
    | 'finished'
    | 'failedItems'
    | 'reason'
    | 'andMore'
    | 'total'
    | 'succeeded'
    | 'failed'
    | 'done'
    | 'scopes'
    | 'task'
    | 'noReports'
    | 'reports'
    | 'submissions'
    | 'retrying'
    | 'errorId',
    string
  >;
};

const zh: Table = {
  state: { queued: '排队中', running: '进行中', succeeded: '已完成', partial: '部分失败', failed: '失败' },
  kind: { contact: '通讯录批量任务', drive: '云空间文件夹任务', storage: '钉钉存储任务', doc: '钉钉文档任务' },
  label: {
    add_user: '批量添加用户',
    add_department: '批量添加部门',
    drive_folder_task: '移动或删除文件夹',
    storage_bulk_move: '批量移动文件',
    doc_copy: '复制文档',
  },
  error: {
    TASK_NOT_FOUND: '找不到这个任务，请确认任务 ID 和所属平台。',
    INVALID_TASK_ID: '任务 ID 格式不对。',
    INVALID_ARGUMENT: '参数有误。',
    PERMISSION_DENIED: '应用缺少权限，请在开发者后台开通后重试。',
    RATE_LIMITED: '平台限流中，稍后自动重试。',
    QUOTA_EXCEEDED: '本月接口调用额度已用完。',
    AUTH_FAILED: '应用凭证无效，请检查 App ID 和 App Secret。',
    UPSTREAM_UNAVAILABLE: '平台暂时不可用，稍后重试。',
    UPSTREAM_TIMEOUT: '平台响应超时，稍后重试。',
    BAD_UPSTREAM_RESPONSE: '平台返回了无法识别的数据。',
    UPSTREAM_REJECTED: '平台拒绝了请求。',
    PROXY_REFUSED: '出口代理拒绝了连接，请管理员检查代理设置（HTTPS_PROXY / NO_PROXY）。',
    NOT_CONFIGURED: '该平台尚未配置。',
    CONFIG_INVALID: '配置有误。',
    STORE_UNUSABLE: 'taskbot 的数据库文件损坏或无法读取。',
    CARD_GONE: '卡片已撤回或已过期。',
    CARD_REJECTED: '平台拒绝了这张卡片的内容。',
    INTERNAL: '我们这边出了点问题，已记录并会自动重试。',
  },
  words: {
    progress: '进度',
    state: '状态',
    counts: '数量',
    started: '开始',
    finished: '结束',
    failedItems: '失败项',
    reason: '原因',
    andMore: '还有 {n} 项',
    total: '共',
    succeeded: '成功',
    failed: '失败',
    done: '已处理',
    scopes: '需要的权限',
    task: '任务',
    noReports: '这段时间没有汇报。',
    reports: '汇报',
    submissions: '份',
    retrying: '重试中',
    errorId: '错误编号',
  },
};

const en: Table = {
  state: { queued: 'Queued', running: 'Running', succeeded: 'Succeeded', partial: 'Partly failed', failed: 'Failed' },
  kind: { contact: 'Contact batch task', drive: 'Drive folder task', storage: 'DingTalk storage task', doc: 'DingTalk doc task' },
  label: {
    add_user: 'Add users',
    add_department: 'Add departments',
    drive_folder_task: 'Move or delete a folder',
    storage_bulk_move: 'Bulk move files',
    doc_copy: 'Copy a document',
  },
  error: {
    TASK_NOT_FOUND: 'No such task: check the task id and the platform.',
    INVALID_TASK_ID: 'That is not a valid task id.',
    INVALID_ARGUMENT: 'A parameter is wrong.',
    PERMISSION_DENIED: 'The app lacks a permission: grant it in the developer console and try again.',
    RATE_LIMITED: 'The platform is rate limiting us; retrying shortly.',
    QUOTA_EXCEEDED: "This month's API quota is used up.",
    AUTH_FAILED: 'The app credentials were refused: check the app id and secret.',
    UPSTREAM_UNAVAILABLE: 'The platform is unavailable right now; retrying shortly.',
    UPSTREAM_TIMEOUT: 'The platform did not answer in time; retrying shortly.',
    BAD_UPSTREAM_RESPONSE: 'The platform sent an answer we cannot read.',
    UPSTREAM_REJECTED: 'The platform refused the request.',
    PROXY_REFUSED: 'The egress proxy refused the connection: the admin should check the proxy settings (HTTPS_PROXY / NO_PROXY).',
    NOT_CONFIGURED: 'That platform is not configured.',
    CONFIG_INVALID: 'The configuration is invalid.',
    STORE_UNUSABLE: "taskbot's database file is corrupt or cannot be read.",
    CARD_GONE: 'The card was recalled or is too old to update.',
    CARD_REJECTED: 'The platform refused the card as it was drawn.',
    INTERNAL: 'Something went wrong on our side; it has been logged and will be retried.',
  },
  words: {
    progress: 'Progress',
    state: 'State',
    counts: 'Counts',
    started: 'Started',
    finished: 'Finished',
    failedItems: 'Failed items',
    reason: 'Reason',
    andMore: 'and {n} more',
    total: 'total',
    succeeded: 'succeeded',
    failed: 'failed',
    done: 'done',
    scopes: 'Needed permission',
    task: 'Task',
    noReports: 'No reports in this period.',
    reports: 'Reports',
    submissions: 'submissions',
    retrying: 'retrying',
    errorId: 'Error id',
  },
};

export const MESSAGES: Record<Locale, Table> = { zh, en };

export function messages(locale: Locale): Table {
  return MESSAGES[locale];
}

/** Fills {name} placeholders. */
export function fill(template: string, params: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in params ? String(params[k]) : m));
}

export function labelText(locale: Locale, label: string): string {
  const labels = MESSAGES[locale].label;
  // Labels come from upstream: only our own keys count, never inherited ones.
  return Object.hasOwn(labels, label) ? labels[label]! : label;
}

/**
 * An error as one line for people, in their language: what it means, then its code, what exactly
 * happened (never for an internal error: that is the log's) and the error id the log line carries.
 * The one way an error is told in a line (a toast, a card's note, a digest section, the terminal).
 */
export function errorLine(err: { code: ErrorCode; message?: string; details: { errorId?: string } }, locale: Locale): string {
  const m = messages(locale);
  const id = err.details.errorId;
  const what = err.code !== 'INTERNAL' && err.message ? `: ${clip(err.message, 200)}` : '';
  return `${m.error[err.code]} (${err.code}${what}${id ? ` · ${m.words.errorId}: ${id}` : ''})`;
}

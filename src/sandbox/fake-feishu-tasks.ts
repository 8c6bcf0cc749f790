import type { FakeRequest, FakeResponse } from './fake-server.js';
import type { Progress, ScriptedTasks, TaskScript } from './scripted-task.js';

export interface FakeReportSubmission {
  task_id: string;
  rule_id: string;
  rule_name: string;
  from_user_id: string;
  from_user_name: string;
  department_name: string;
  department_ids: string[];
  commit_time: number;
  to_user_ids: string[];
  to_user_names: string[];
  form_contents: { field_id: string; field_name: string; field_value: string }[];
}

/* The fake Feishu's task APIs: scripted tasks, answered as contact v2, drive v1 and report v1 answer. */

/** contact v2 task/get. */
export function contactTask(tasks: ScriptedTasks, r: FakeRequest): FakeResponse {
  const id = r.query.get('task_id') ?? '';
  const t = tasks.get('contact', id);
  if (!t) return { status: 200, body: { code: 40003, msg: 'task not exist' } };
  const p = t.read();
  return { status: 200, body: { code: 0, msg: 'success', data: contactData(t.script, p) } };
}

/** drive v1 files/task_check. */
export function driveTask(tasks: ScriptedTasks, r: FakeRequest): FakeResponse {
  const id = r.query.get('task_id') ?? '';
  if (!/^\d+$/.test(id)) return { status: 400, body: { code: 1061002, msg: 'params error.' } };
  const t = tasks.get('drive', id);
  if (!t) return { status: 404, body: { code: 1061003, msg: 'not found.' } };
  const p = t.read();
  const status = p.phase !== 'done' ? 'process' : p.outcome === 'failed' ? 'fail' : 'success';
  return { status: 200, body: { code: 0, msg: 'success', data: { status } } };
}

/** report v1 tasks/query, paged as Feishu pages it. */
export function reportQuery(reports: readonly FakeReportSubmission[], r: FakeRequest): FakeResponse {
  const b = (r.body ?? {}) as Record<string, unknown>;
  const size = Number(b.page_size);
  if (!Number.isInteger(size) || size < 1 || size > 20) return { status: 400, body: { code: 1430002, msg: 'page size invalid' } };
  if (typeof b.page_token !== 'string') return { status: 400, body: { code: 99992402, msg: 'field validation failed: page_token' } };
  const ruleId = b.rule_id === undefined ? undefined : String(b.rule_id);
  if (ruleId !== undefined && !reports.some((s) => s.rule_id === ruleId)) {
    return { status: 400, body: { code: 1430003, msg: 'rule not exist' } };
  }
  const from = Number(b.commit_start_time);
  const to = Number(b.commit_end_time);
  const matching = reports.filter((s) => s.commit_time >= from && s.commit_time <= to && (ruleId === undefined || s.rule_id === ruleId));
  const start = b.page_token ? Number(b.page_token) : 0;
  const items = matching.slice(start, start + size);
  const hasMore = start + size < matching.length;
  return {
    status: 200,
    body: { code: 0, msg: '', data: { items, has_more: hasMore, ...(hasMore && { page_token: String(start + size) }) } },
  };
}

/** contact v2 task/get's data for a scripted task at a point of its progress. */
function contactData(s: TaskScript, p: Progress) {
  const status = p.phase === 'done' ? (p.outcome === 'failed' ? 10 : 9) : Math.min(8, p.step);
  const done = p.phase === 'done' && p.outcome !== 'failed';
  return {
    task_id: s.id,
    type: s.label ?? 'add_user',
    status,
    progress: p.percent,
    total_num: s.total,
    success_num: p.succeeded,
    fail_num: p.failed,
    create_time: Math.floor(p.startedAt.getTime() / 1000),
    ...(p.finishedAt && { finish_time: Math.floor(p.finishedAt.getTime() / 1000) }),
    // task_info is left out when the task did not finish normally.
    ...(done && { task_info: contactItems(s.total, p.failed, s.failedRows) }),
  };
}

function contactItems(total: number, failed: number, rows: TaskScript['failedRows'] = []) {
  return Array.from({ length: total }, (_, i) => {
    const n = i + 1;
    const ok = i >= failed;
    const own = ok || rows.length === 0 ? {} : rows[i % rows.length];
    return {
      code: ok ? 0 : 10013,
      msg: ok ? 'success' : 'invalid user_id',
      ...(ok && { action: 1, open_id: `ou_${n.toString(16).padStart(32, '0')}` }),
      departments: ['custom_1'],
      email: `user${n}@example.com`,
      mobile: `130${String(n).padStart(8, '0')}`,
      name: `user_${n}`,
      user_id: ok ? `user_${n}` : `_user_${n}`,
      ...own,
    };
  });
}

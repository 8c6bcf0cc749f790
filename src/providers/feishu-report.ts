import { z } from 'zod';
import type { ReportSubmission, ReportWindow } from '../domain/report.js';
import type { FeishuTaskApi } from './ports.js';
import { parseUpstream } from './provider.js';

/** The documented maximum page size. */
export const REPORT_PAGE_SIZE = 20;

const Submission = z.object({
  task_id: z.string(),
  rule_id: z.string().optional(),
  rule_name: z.string().default(''),
  from_user_id: z.string().optional(),
  from_user_name: z.string().default(''),
  department_name: z.string().optional(),
  commit_time: z.number().int().nonnegative(),
  to_user_names: z.array(z.string()).default([]),
  form_contents: z.array(z.object({ field_name: z.string().default(''), field_value: z.string().default('') })).default([]),
});

const Page = z.object({
  items: z.array(Submission).default([]),
  has_more: z.boolean().default(false),
  page_token: z.string().optional(),
});

export function mapSubmission(s: z.output<typeof Submission>): ReportSubmission {
  return {
    taskId: s.task_id,
    ...(s.rule_id && { ruleId: s.rule_id }),
    ruleName: s.rule_name,
    ...(s.from_user_id && { fromUserId: s.from_user_id }),
    fromUserName: s.from_user_name,
    ...(s.department_name && { departmentName: s.department_name }),
    commitTime: new Date(s.commit_time * 1000),
    toUserNames: s.to_user_names,
    fields: s.form_contents.map((f) => ({ name: f.field_name, value: f.field_value })),
  };
}

/**
 * Every submission committed in the window, page by page (page_token "" first, then the one
 * each page returns while has_more). The API client keeps the pace under 10 requests/s.
 */
export async function* reportSubmissions(api: FeishuTaskApi, w: ReportWindow): AsyncGenerator<ReportSubmission> {
  let pageToken = '';
  for (;;) {
    const raw = await api.reportQuery({
      commit_start_time: Math.floor(w.from.getTime() / 1000),
      commit_end_time: Math.floor(w.to.getTime() / 1000),
      page_token: pageToken,
      page_size: REPORT_PAGE_SIZE,
      ...(w.ruleId && { rule_id: w.ruleId }),
    });
    const page = parseUpstream(Page, raw ?? {}, 'report v1 tasks/query');
    for (const s of page.items) yield mapSubmission(s);
    // A page that claims more but gives no token would loop forever on the same page.
    if (!page.has_more || !page.page_token) return;
    pageToken = page.page_token;
  }
}

/** One Feishu report submission (report v1 tasks/query), in neutral form. */
export interface ReportSubmission {
  taskId: string;
  ruleId?: string;
  ruleName: string;
  fromUserId?: string;
  fromUserName: string;
  departmentName?: string;
  commitTime: Date;
  toUserNames: string[];
  fields: { name: string; value: string }[];
}

export interface ReportWindow {
  from: Date;
  to: Date;
  ruleId?: string;
}

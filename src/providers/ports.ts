/**
 * What providers need from each platform, as plain calls returning the answer's payload.
 * The platform layer owns tokens, retries and error codes; providers own shapes and meaning.
 */

export interface FeishuTaskApi {
  /** contact v2 task/get → `data` */
  contactTask(taskId: string): Promise<unknown>;
  /** drive v1 files/task_check → `data` */
  driveTaskCheck(taskId: string): Promise<unknown>;
  /** report v1 tasks/query → `data` */
  reportQuery(body: ReportQueryBody): Promise<unknown>;
}

export interface ReportQueryBody {
  commit_start_time: number;
  commit_end_time: number;
  page_token: string;
  page_size: number;
  rule_id?: string;
  user_id?: string;
}

export interface DingtalkTaskApi {
  /** GET /v1.0/storage/tasks/{id}?unionId= → body */
  storageTask(taskId: string, unionId: string): Promise<unknown>;
  /** GET /v2.0/doc/task/info/{id} → body */
  docTask(taskId: string): Promise<unknown>;
}

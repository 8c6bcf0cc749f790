import { describe, expect, it } from 'vitest';
import { ERROR_CODES, persistenceOf, TaskbotError, type ErrorCode, type Persistence } from '../../src/domain/errors.js';
import { ManualClock } from '../../src/domain/clock.js';
import { withRetry } from '../../src/http/retry.js';
import { classifyFeishu, FEISHU_CODES } from '../../src/platforms/feishu/errors.js';
import { classifyDingtalk, classifyOapi, DINGTALK_RULES, type DingtalkCallContext } from '../../src/platforms/dingtalk/errors.js';

/** Our reading of each Feishu code, written down here independently of the table in the code. */
const FEISHU_EXPECTED: [number, ErrorCode, Persistence][] = [
  [99991400, 'RATE_LIMITED', 'rate-limit'],
  [230020, 'RATE_LIMITED', 'rate-limit'],
  [99991661, 'AUTH_FAILED', 'permanent'],
  [99991663, 'AUTH_FAILED', 'permanent'],
  [99991664, 'AUTH_FAILED', 'permanent'],
  [99991671, 'AUTH_FAILED', 'permanent'],
  [99991672, 'PERMISSION_DENIED', 'permanent'],
  [99991679, 'PERMISSION_DENIED', 'permanent'],
  [1061001, 'UPSTREAM_UNAVAILABLE', 'transient'],
  [1061002, 'INVALID_TASK_ID', 'permanent'],
  [1061003, 'TASK_NOT_FOUND', 'permanent'],
  [1061004, 'PERMISSION_DENIED', 'permanent'],
  [1430001, 'AUTH_FAILED', 'permanent'],
  [1430002, 'INVALID_ARGUMENT', 'permanent'],
  [1430003, 'INVALID_ARGUMENT', 'permanent'],
  [230001, 'UPSTREAM_REJECTED', 'permanent'],
  [230002, 'CARD_GONE', 'permanent'],
  [230011, 'CARD_GONE', 'permanent'],
  [230110, 'CARD_GONE', 'permanent'],
  [231003, 'CARD_GONE', 'permanent'],
  [232009, 'CARD_GONE', 'permanent'],
  [230031, 'CARD_GONE', 'permanent'],
  [230099, 'CARD_REJECTED', 'permanent'],
  [230025, 'CARD_REJECTED', 'permanent'],
  [11246, 'CARD_REJECTED', 'permanent'],
];

const feishu = (code: number | undefined, status = 400, msg = 'x', ctx = { endpoint: 'im v1 message patch', scopes: ['im:message'] }) =>
  classifyFeishu({ status, headers: {}, body: code === undefined ? {} : { code, msg } }, ctx)!;

describe('Feishu answers: one table, each row permanent, transient or rate-limit', () => {
  it.each(FEISHU_EXPECTED)('%i → %s (%s)', (code, ours, persistence) => {
    const e = feishu(code);
    expect(e.code).toBe(ours);
    expect(e.persistence).toBe(persistence);
    expect(e.details.upstreamCode).toBe(code);
  });

  it('every row of the table has a test here', () => {
    expect([...FEISHU_CODES.keys()].sort()).toEqual(FEISHU_EXPECTED.map((r) => r[0]).sort());
  });

  it('token answers evict the token; a missing scope names it; the reset header is the wait', () => {
    expect(feishu(99991663).details.tokenInvalid).toBe(true);
    expect(feishu(1430001).details.tokenInvalid).toBeUndefined();
    expect(feishu(99991672, 400, 'Access denied. One of the following scopes is required: [drive:drive, drive:drive:readonly]').details.scopes).toEqual([
      'drive:drive',
      'drive:drive:readonly',
    ]);
    const limited = classifyFeishu(
      { status: 429, headers: { 'x-ogw-ratelimit-reset': '3' }, body: { code: 99991400, msg: 'limited' } },
      { endpoint: 'e', scopes: [] },
    )!;
    expect(limited.details.retryAfterMs).toBe(3000);
  });

  it('answers without a known code: by HTTP status, and "not found" wording only for a task lookup', () => {
    expect(feishu(undefined, 502).persistence).toBe('transient');
    expect(feishu(undefined, 429).code).toBe('RATE_LIMITED');
    expect(feishu(999999, 400, 'message not found').code).toBe('UPSTREAM_REJECTED');
    const task = { endpoint: 'contact v2 task/get', scopes: [], taskId: 'abc' };
    expect(feishu(999999, 400, 'task not exist', task).code).toBe('TASK_NOT_FOUND');
    expect(feishu(undefined, 404, '', task).code).toBe('TASK_NOT_FOUND');
    expect(feishu(undefined, 400).code).toBe('BAD_UPSTREAM_RESPONSE');
  });
});

const CARD: DingtalkCallContext = { endpoint: 'card v1.0 update', scopes: ['Card.Instance.Write'], target: 'card' };
const TEMPLATE: DingtalkCallContext = { endpoint: 'card v1.0 createAndDeliver', scopes: ['Card.Instance.Write'], target: 'template' };
const TASK: DingtalkCallContext = { endpoint: 'storage v1.0 tasks', scopes: ['Storage.Task.Read'], taskId: 't1' };

/** Our reading of DingTalk answers: [HTTP status, code, message, context, expected, persistence]. */
const DINGTALK_EXPECTED: [number, string, string, DingtalkCallContext, ErrorCode, Persistence][] = [
  [400, 'InvalidAuthentication', 'token invalid', TASK, 'AUTH_FAILED', 'permanent'],
  [403, 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi', '', TASK, 'RATE_LIMITED', 'rate-limit'],
  [403, 'Forbidden.AccessDenied.QpsLimitForApi', '', TASK, 'RATE_LIMITED', 'rate-limit'],
  [403, 'Forbidden.AccessDenied.ApiCountLimitForOrg', '', TASK, 'QUOTA_EXCEEDED', 'permanent'],
  [403, 'Forbidden.AccessDenied.AccessTokenPermissionDenied', '', TASK, 'PERMISSION_DENIED', 'permanent'],
  [400, 'taskNotExist', 'task not exist', TASK, 'TASK_NOT_FOUND', 'permanent'],
  [400, 'cardNotExist', 'card instance not found', CARD, 'CARD_GONE', 'permanent'],
  [400, 'param.outTrackId', 'the card does not exist', CARD, 'CARD_GONE', 'permanent'],
  [400, 'paramError', 'template not exist', TEMPLATE, 'NOT_CONFIGURED', 'permanent'],
  [400, 'paramError', 'unionId is invalid', TASK, 'INVALID_ARGUMENT', 'permanent'],
  [400, 'paramError.unionId', 'bad', TASK, 'INVALID_ARGUMENT', 'permanent'],
  [400, 'paramError', 'taskId is invalid', TASK, 'INVALID_TASK_ID', 'permanent'],
  [400, 'paramError.taskId', '', TASK, 'INVALID_TASK_ID', 'permanent'],
  [400, 'paramError.cardParamMap', 'too long', CARD, 'INVALID_ARGUMENT', 'permanent'],
  [500, 'systemError', '', TASK, 'UPSTREAM_UNAVAILABLE', 'transient'],
  [500, 'unknownError', '', TASK, 'UPSTREAM_UNAVAILABLE', 'transient'],
  [504, 'operationTimeout', '', TASK, 'UPSTREAM_UNAVAILABLE', 'transient'],
];

describe('DingTalk answers: one rule list, each answer permanent, transient or rate-limit', () => {
  it.each(DINGTALK_EXPECTED)('HTTP %i %s (%s) → %s', (status, code, message, ctx, ours, persistence) => {
    const e = classifyDingtalk(status, {}, { code, message, requestid: 'r' }, ctx);
    expect(e.code).toBe(ours);
    expect(e.persistence).toBe(persistence);
  });

  it('every rule matches at least one of the answers above', () => {
    for (const rule of DINGTALK_RULES) {
      expect(
        DINGTALK_EXPECTED.some(([, code, message, ctx]) => rule.match(code, ctx, message)),
        rule.means,
      ).toBe(true);
    }
  });

  it('answers without a code: by HTTP status', () => {
    expect(classifyDingtalk(502, {}, undefined, TASK).persistence).toBe('transient');
    expect(classifyDingtalk(429, { 'retry-after': '2' }, undefined, TASK).details.retryAfterMs).toBe(2000);
    expect(classifyDingtalk(404, {}, {}, TASK).code).toBe('TASK_NOT_FOUND');
    expect(classifyDingtalk(404, {}, {}, CARD).code).toBe('BAD_UPSTREAM_RESPONSE');
    expect(classifyDingtalk(400, {}, { code: 'SomethingNew' }, TASK).code).toBe('UPSTREAM_REJECTED');
  });

  it.each([
    [40014, 'AUTH_FAILED'],
    [42001, 'AUTH_FAILED'],
    [40001, 'AUTH_FAILED'],
    [90002, 'RATE_LIMITED'],
    [90018, 'RATE_LIMITED'],
    [-1, 'UPSTREAM_UNAVAILABLE'],
    [60121, 'INVALID_ARGUMENT'],
    [60011, 'PERMISSION_DENIED'],
    [88, 'PERMISSION_DENIED'],
    [33012, 'UPSTREAM_REJECTED'],
  ] as const)('legacy oapi errcode %i → %s', (errcode, ours) => {
    expect(classifyOapi({ errcode, errmsg: 'x' }, { endpoint: 'topapi v2 user/get', scopes: ['qyapi_get_member'] })?.code).toBe(ours);
  });
});

describe('permanent answers cost no further calls', () => {
  it.each(ERROR_CODES.map((c) => [c, persistenceOf(c)] as const))('%s (%s)', async (code, persistence) => {
    let calls = 0;
    const clock = new ManualClock();
    const run = withRetry(
      async () => {
        calls++;
        throw new TaskbotError(code, 'x');
      },
      { clock, policy: { attempts: 3, baseDelayMs: 10, maxDelayMs: 10 } },
    ).catch(() => undefined);
    await clock.advance(1000);
    await run;
    expect(calls).toBe(persistence === 'permanent' ? 1 : 3);
  });

  it('a thrown bug is INTERNAL: retried, with an error id and the stack for the log', async () => {
    const { asTaskbotError } = await import('../../src/domain/errors.js');
    const e = asTaskbotError(new TypeError('cannot read x of undefined'));
    expect(e.code).toBe('INTERNAL');
    expect(e.persistence).toBe('transient');
    expect(e.details.errorId).toMatch(/^[0-9a-f]{8}$/);
    expect(String(e.toJSON().stack)).toContain('TypeError');
  });
});

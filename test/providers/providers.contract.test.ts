import { describe, expect, it } from 'vitest';
import { contactState, mapContactTask } from '../../src/providers/feishu-contact.js';
import { mapDriveTask } from '../../src/providers/feishu-drive.js';
import { mapStorageTask, storageState } from '../../src/providers/dingtalk-storage.js';
import { mapDocTask } from '../../src/providers/dingtalk-doc.js';
import { mapSubmission } from '../../src/providers/feishu-report.js';
import { isTaskbotError } from '../../src/domain/errors.js';
import type { TaskRef } from '../../src/domain/task.js';
import { fixture } from '../helpers/fixtures.js';

const now = new Date('2026-11-21T10:00:00Z');
const contactRef: TaskRef = { app: 'feishu', platform: 'feishu', kind: 'contact', id: '123456784b68a7c89abcdef092dc09ea' };
const driveRef: TaskRef = { app: 'feishu', platform: 'feishu', kind: 'drive', id: '7360595374803812356' };
const storageRef: TaskRef = { app: 'dingtalk', platform: 'dingtalk', kind: 'storage', id: 'task-7d8f', operator: 'union-1' };
const docRef: TaskRef = { app: 'dingtalk', platform: 'dingtalk', kind: 'doc', id: 'abcd' };

function expectBadUpstream(fn: () => unknown, field: RegExp) {
  try {
    fn();
  } catch (e) {
    expect(isTaskbotError(e, 'BAD_UPSTREAM_RESPONSE')).toBe(true);
    expect((e as Error).message).toMatch(field);
    return;
  }
  throw new Error('expected BAD_UPSTREAM_RESPONSE');
}

describe('Feishu contact v2 task/get', () => {
  it('maps the documented add_user example (status 8 = still running) with items, times and counts', () => {
    const s = mapContactTask(contactRef, fixture('feishu-contact-add-user.json').data, now);
    expect(s).toMatchObject({ state: 'running', progress: 100, total: 2, succeeded: 1, failed: 1, label: 'add_user' });
    expect(s.startedAt?.toISOString()).toBe('2019-08-15T14:15:19.000Z');
    expect(s.finishedAt?.toISOString()).toBe('2019-08-15T14:15:23.000Z');
    // Only failures are kept: the card lists them.
    expect(s.items).toEqual([{ name: 'custom_2', id: '_custom_2', ok: false, code: '10013', message: 'invalid user_id', mobile: '13000000002' }]);
  });

  it('maps the documented add_department example', () => {
    const s = mapContactTask(contactRef, fixture('feishu-contact-add-department.json').data, now);
    expect(s).toMatchObject({ state: 'running', label: 'add_department', succeeded: 2, failed: 0, items: [] });
  });

  it.each([
    [{ status: 0, progress: 0, success_num: 0, fail_num: 0 }, 'queued'],
    [{ status: 1, progress: 0, success_num: 0, fail_num: 0 }, 'queued'],
    [{ status: 3, progress: 40, success_num: 4, fail_num: 0 }, 'running'],
    [{ status: 5, progress: 0, success_num: 1, fail_num: 0 }, 'running'],
    [{ status: 8, progress: 100, success_num: 2, fail_num: 0 }, 'running'],
    [{ status: 9, progress: 100, success_num: 2, fail_num: 0 }, 'succeeded'],
    [{ status: 9, progress: 100, success_num: 1, fail_num: 1 }, 'partial'],
    [{ status: 10, progress: 30, success_num: 0, fail_num: 0 }, 'failed'],
  ] as const)('status %o → %s', (d, state) => {
    expect(contactState(d)).toBe(state);
  });

  it("takes a failed task's reason from its first failed item and tolerates unknown fields", () => {
    const d = fixture('feishu-contact-add-user.json').data;
    const s = mapContactTask(contactRef, { ...d, status: 10, brand_new_field: { x: 1 } }, now);
    expect(s.state).toBe('failed');
    expect(s.failureReason).toBe('invalid user_id');
  });

  it('keeps at most 50 failed items, named by id when they have no name', () => {
    const d = fixture('feishu-contact-add-user.json').data;
    const many = Array.from({ length: 80 }, (_, i) => ({ code: 10013, msg: 'invalid', user_id: `u${i}` }));
    const s = mapContactTask(contactRef, { ...d, status: 9, fail_num: 80, task_info: many }, now);
    expect(s.items).toHaveLength(50);
    expect(s.items![0]!.name).toBe('u0');
  });

  it('rejects a status outside 0..10 and a wrong type where we read a field', () => {
    const d = fixture('feishu-contact-add-user.json').data;
    expectBadUpstream(() => mapContactTask(contactRef, { ...d, status: 11 }, now), /status/);
    expectBadUpstream(() => mapContactTask(contactRef, { ...d, fail_num: '1' }, now), /fail_num/);
    expectBadUpstream(() => mapContactTask(contactRef, undefined, now), /\(root\)/);
  });
});

describe('Feishu drive v1 task_check', () => {
  it('maps the documented example', () => {
    const s = mapDriveTask(driveRef, fixture('feishu-drive-task-check.json').data, now);
    expect(s).toMatchObject({ state: 'succeeded', progress: 100, ref: driveRef });
    expect(s.total).toBeUndefined();
  });

  it.each([
    ['process', 'running'],
    ['success', 'succeeded'],
    ['fail', 'failed'],
  ] as const)('%s → %s', (status, state) => {
    expect(mapDriveTask(driveRef, { status }, now).state).toBe(state);
  });

  it('rejects an undocumented status', () => {
    expectBadUpstream(() => mapDriveTask(driveRef, { status: 'done' }, now), /status/);
  });
});

describe('DingTalk storage v1.0 tasks', () => {
  it('maps a finished task with failures as partial, with ISO minute times', () => {
    const s = mapStorageTask(storageRef, fixture('dingtalk-storage-task.json'), now);
    expect(s).toMatchObject({ state: 'partial', total: 12, succeeded: 10, failed: 2, progress: 100, failureReason: '2 files were locked' });
    expect(s.startedAt?.toISOString()).toBe('2022-07-29T14:55:00.000Z');
    expect(s.finishedAt?.toISOString()).toBe('2022-07-29T14:57:00.000Z');
  });

  it.each([
    ['INIT', 0, 'queued'],
    ['IN_PROGRESS', 0, 'running'],
    ['SUCCESS', 0, 'succeeded'],
    ['SUCCESS', 3, 'partial'],
    ['FAIL', 0, 'failed'],
  ] as const)('%s with failCount %d → %s', (status, failCount, state) => {
    expect(storageState(status, failCount)).toBe(state);
  });

  it('computes progress from counts while running and keeps the fail message of a failed task', () => {
    const running = mapStorageTask(storageRef, { task: { id: 'x', status: 'IN_PROGRESS', totalCount: 8, successCount: 3, failCount: 1 } }, now);
    expect(running.progress).toBe(50);
    const failed = mapStorageTask(storageRef, { task: { id: 'x', status: 'FAIL', failMessage: 'no space' } }, now);
    expect(failed).toMatchObject({ state: 'failed', failureReason: 'no space' });
  });

  it('rejects a body without task or with an undocumented status', () => {
    expectBadUpstream(() => mapStorageTask(storageRef, {}, now), /task/);
    expectBadUpstream(() => mapStorageTask(storageRef, { task: { id: 'x', status: 'DONE' } }, now), /task\.status/);
  });
});

describe('DingTalk doc v2.0 task/info', () => {
  it('maps the documented example (status 2 = partly failed), reading succCount', () => {
    const s = mapDocTask(docRef, fixture('dingtalk-doc-task-info.json'), now);
    expect(s).toMatchObject({ state: 'partial', total: 1, succeeded: 1, failed: 0, progress: 100 });
  });

  it.each([
    [-1, 'queued'],
    [0, 'running'],
    [1, 'succeeded'],
    [2, 'partial'],
    [3, 'failed'],
    [4, 'failed'],
  ] as const)('status %d → %s', (status, state) => {
    expect(mapDocTask(docRef, { status, totalCount: 4, succCount: 1, failCount: 1 }, now).state).toBe(state);
  });

  it('rejects status 5 and a string count', () => {
    expectBadUpstream(() => mapDocTask(docRef, { status: 5 }, now), /status/);
    expectBadUpstream(() => mapDocTask(docRef, { status: 0, succCount: 'x' }, now), /succCount/);
  });
});

describe('Feishu report v1 tasks/query', () => {
  it('maps a submission built from the field table', () => {
    const raw = fixture('feishu-report-tasks-query.json').data.items[0];
    expect(mapSubmission(raw)).toEqual({
      taskId: '6969507459119693826',
      ruleId: '6969410005221015580',
      ruleName: 'report test',
      fromUserId: 'ou_c26134180ba2611aede183e5e3b531ed',
      fromUserName: 'hongyao',
      departmentName: '测试部门',
      commitTime: new Date(1622714908 * 1000),
      toUserNames: ['gaojunqi'],
      fields: [
        { name: 'tset info', value: '4567' },
        { name: 'number', value: '789768' },
      ],
    });
  });
});

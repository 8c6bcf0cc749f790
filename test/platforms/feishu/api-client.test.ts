import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeFeishu } from '../../../src/sandbox/fake-feishu.js';
import { FeishuApi } from '../../../src/platforms/feishu/api-client.js';
import { FeishuContactProvider } from '../../../src/providers/feishu-contact.js';
import { FeishuDriveProvider } from '../../../src/providers/feishu-drive.js';
import { TaskRegistry } from '../../../src/providers/registry.js';
import { reportSubmissions } from '../../../src/providers/feishu-report.js';
import type { TaskSnapshot } from '../../../src/domain/task.js';

const CONTACT_ID = '0123456789abcdef0123456789abcdef';
const DRIVE_ID = '7360595374803812356';
const fastRetry = { policy: { attempts: 3, baseDelayMs: 20, maxDelayMs: 100 } };

let fake: FakeFeishu;
let api: FeishuApi;
let registry: TaskRegistry;

function client(overrides: Partial<ConstructorParameters<typeof FeishuApi>[0]> = {}) {
  return new FeishuApi({ appId: fake.appId, appSecret: fake.appSecret, domain: fake.baseUrl, timeoutMs: 2000, retry: fastRetry, ...overrides });
}

beforeEach(async () => {
  fake = new FakeFeishu();
  await fake.listen();
  api = client();
  registry = new TaskRegistry({ feishu: [new FeishuContactProvider(api), new FeishuDriveProvider(api)] });
});
afterEach(() => fake.close());

const TASK = /\/open-apis\/(contact|drive)\//;
const TOKEN = '/open-apis/auth/v3/tenant_access_token/internal';

describe('Feishu task providers through the SDK Client against the fake', () => {
  it('follows a contact task from queued through running to partial, with failed items', async () => {
    fake.addTask({ id: CONTACT_ID, kind: 'contact', total: 10, outcome: 'partial', queuedSteps: 1, runningSteps: 2 });
    const seen: TaskSnapshot[] = [];
    for (let i = 0; i < 4; i++) seen.push(await registry.fetch({ app: 'feishu', platform: 'feishu', id: CONTACT_ID }));
    expect(seen.map((s) => s.state)).toEqual(['queued', 'running', 'running', 'partial']);
    expect(seen.map((s) => s.succeeded! + s.failed!)).toEqual([0, 3, 6, 10]);
    const last = seen[3]!;
    expect(last).toMatchObject({ ref: { kind: 'contact' }, total: 10, failed: 2, progress: 100, label: 'add_user' });
    expect(last.items?.filter((i) => !i.ok)).toHaveLength(2);
    expect(last.finishedAt).toBeInstanceOf(Date);
  });

  it('reads drive tasks through the typed taskCheck helper: process → success / fail', async () => {
    fake.addTask({ id: DRIVE_ID, kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 1 });
    fake.addTask({ id: '42', kind: 'drive', total: 1, outcome: 'failed', queuedSteps: 0, runningSteps: 1 });
    expect((await registry.fetch({ app: 'feishu', platform: 'feishu', id: DRIVE_ID })).state).toBe('running');
    expect((await registry.fetch({ app: 'feishu', platform: 'feishu', id: DRIVE_ID })).state).toBe('succeeded');
    await registry.fetch({ app: 'feishu', platform: 'feishu', id: '42' });
    expect((await registry.fetch({ app: 'feishu', platform: 'feishu', id: '42' })).state).toBe('failed');
    expect(fake.calls('/open-apis/drive/v1/files/task_check')[0]!.query.get('task_id')).toBe(DRIVE_ID);
  });

  it('fetches one token for many concurrent first calls and sends it as a Bearer token', async () => {
    fake.addTask({ id: DRIVE_ID, kind: 'drive', total: 1, outcome: 'succeeded' });
    await Promise.all(Array.from({ length: 20 }, () => api.driveTaskCheck(DRIVE_ID)));
    expect(fake.calls(TOKEN)).toHaveLength(1);
    expect(fake.calls(TASK).every((r) => /^Bearer t-1-/.test(String(r.headers.authorization)))).toBe(true);
  });

  it("takes its tokens from the app's token source when given one (the seam for marketplace apps), never from the internal endpoint", async () => {
    fake.addTask({ id: DRIVE_ID, kind: 'drive', total: 1, outcome: 'succeeded' });
    let asked = 0;
    const viaSource = client({ appSecret: 'not-the-secret', tokenSource: async () => ({ token: fake.tokens.issue(`isv${++asked}`), expiresInSec: 7200 }) });
    await Promise.all(Array.from({ length: 5 }, () => viaSource.driveTaskCheck(DRIVE_ID)));
    expect(asked).toBe(1);
    expect(fake.calls(TOKEN)).toHaveLength(0);
    expect(fake.calls(TASK).every((r) => /^Bearer isv1-/.test(String(r.headers.authorization)))).toBe(true);
  });

  it('retries a 5xx and succeeds', async () => {
    fake.addTask({ id: DRIVE_ID, kind: 'drive', total: 1, outcome: 'succeeded' });
    fake.inject({ path: TASK, kind: '5xx', times: 2 });
    await expect(api.driveTaskCheck(DRIVE_ID)).resolves.toEqual({ status: 'process' });
    expect(fake.calls(TASK)).toHaveLength(3);
  });

  it('gives up on persistent 5xx with UPSTREAM_UNAVAILABLE after the retry budget', async () => {
    fake.inject({ path: TASK, kind: '5xx', times: 10 });
    await expect(api.driveTaskCheck(DRIVE_ID)).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', details: { upstreamCode: 1061001 } });
    expect(fake.calls(TASK)).toHaveLength(3);
  });

  it('honours x-ogw-ratelimit-reset on a 429 / 99991400 before retrying', async () => {
    fake.addTask({ id: DRIVE_ID, kind: 'drive', total: 1, outcome: 'succeeded' });
    fake.inject({ path: TASK, kind: '429', resetSec: 1 });
    await api.driveTaskCheck(DRIVE_ID);
    const [first, second] = fake.calls(TASK);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
  });

  it('does not retry other 4xx answers', async () => {
    await expect(api.driveTaskCheck('12345')).rejects.toMatchObject({ code: 'TASK_NOT_FOUND', details: { upstreamCode: 1061003 } });
    await expect(api.driveTaskCheck('abc')).rejects.toMatchObject({ code: 'INVALID_TASK_ID', details: { upstreamCode: 1061002 } });
    expect(fake.calls(TASK)).toHaveLength(2);
  });

  it('ends a hanging call with UPSTREAM_TIMEOUT, never a hang', async () => {
    fake.inject({ path: TASK, kind: 'hang', times: 5 });
    const quick = client({ timeoutMs: 200, retry: { policy: { attempts: 2, baseDelayMs: 10, maxDelayMs: 10 } } });
    const t0 = Date.now();
    await expect(quick.driveTaskCheck(DRIVE_ID)).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(fake.calls(TASK)).toHaveLength(2);
  });

  it('turns a malformed answer into BAD_UPSTREAM_RESPONSE without retrying', async () => {
    fake.inject({ path: TASK, kind: 'malformed' });
    await expect(api.driveTaskCheck(DRIVE_ID)).rejects.toMatchObject({ code: 'BAD_UPSTREAM_RESPONSE' });
    expect(fake.calls(TASK)).toHaveLength(1);
  });

  it('refreshes a token revoked mid-run once and carries on', async () => {
    fake.addTask({ id: DRIVE_ID, kind: 'drive', total: 1, outcome: 'succeeded', runningSteps: 5 });
    await api.driveTaskCheck(DRIVE_ID);
    fake.tokens.revokeAll();
    await expect(api.driveTaskCheck(DRIVE_ID)).resolves.toEqual({ status: 'process' });
    expect(fake.calls(TOKEN)).toHaveLength(2);
  });

  it('names the missing scope', async () => {
    fake.denyScope('/open-apis/contact/v2/task/get');
    const e = await registry.fetch({ app: 'feishu', platform: 'feishu', id: CONTACT_ID }).catch((x) => x);
    expect(e).toMatchObject({ code: 'PERMISSION_DENIED', details: { scopes: ['contact:contact', 'contact:contact:readonly_as_app'] } });
    expect(e.message).toContain('contact:contact');
  });

  it('reports an unknown contact task as TASK_NOT_FOUND and a bad secret as AUTH_FAILED', async () => {
    await expect(registry.fetch({ app: 'feishu', platform: 'feishu', id: CONTACT_ID })).rejects.toMatchObject({ code: 'TASK_NOT_FOUND' });
    const wrong = client({ appSecret: 'nope' });
    await expect(wrong.driveTaskCheck(DRIVE_ID)).rejects.toMatchObject({ code: 'AUTH_FAILED', details: { upstreamCode: 10014 } });
  });
});

describe('Feishu report tasks/query', () => {
  const base = Date.UTC(2026, 10, 20) / 1000;
  beforeEach(() => {
    for (let i = 0; i < 45; i++) {
      fake.reports.push({
        task_id: String(7000 + i),
        rule_id: i % 3 === 0 ? 'rule-weekly' : 'rule-daily',
        rule_name: i % 3 === 0 ? '周报' : '日报',
        from_user_id: `ou_${i}`,
        from_user_name: `user ${i}`,
        department_name: '研发部',
        department_ids: ['od-1'],
        commit_time: base + i * 60,
        to_user_ids: ['ou_boss'],
        to_user_names: ['boss'],
        form_contents: [{ field_id: 'f1', field_name: '今日完成', field_value: `item ${i}` }],
      });
    }
  });
  const window = { from: new Date(base * 1000), to: new Date((base + 3600) * 1000) };

  it('pages through every submission: page_token "" first, page_size 20, until has_more is false', async () => {
    const all = [];
    for await (const s of reportSubmissions(api, window)) all.push(s);
    expect(all).toHaveLength(45);
    expect(new Set(all.map((s) => s.taskId)).size).toBe(45);
    const pages = fake.calls('/open-apis/report/v1/tasks/query').map((r) => r.body as { page_token: string; page_size: number });
    expect(pages.map((p) => p.page_token)).toEqual(['', '20', '40']);
    expect(pages.every((p) => p.page_size === 20)).toBe(true);
  });

  it('filters by rule and rejects an unknown rule with a clear error', async () => {
    const weekly = [];
    for await (const s of reportSubmissions(api, { ...window, ruleId: 'rule-weekly' })) weekly.push(s);
    expect(weekly).toHaveLength(15);
    expect(weekly.every((s) => s.ruleName === '周报')).toBe(true);
    const it = reportSubmissions(api, { ...window, ruleId: 'nope' });
    await expect(it.next()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { upstreamCode: 1430003 } });
  });

  it('never sends more than 10 requests in any second', async () => {
    // 25 quick pages: the client must spread them over more than two seconds.
    const tiny = fake.reports.slice(0, 1);
    fake.reports.length = 0;
    for (let i = 0; i < 25 * 20; i++) fake.reports.push({ ...tiny[0]!, task_id: String(i) });
    let n = 0;
    for await (const _ of reportSubmissions(api, window)) n++;
    expect(n).toBe(500);
    const at = fake.calls('/open-apis/report/v1/tasks/query').map((r) => r.at);
    expect(at).toHaveLength(25);
    for (const t of at) expect(at.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(10);
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeDingtalk } from '../../../src/sandbox/fake-dingtalk.js';
import { DingtalkApi } from '../../../src/platforms/dingtalk/api-client.js';
import { DingtalkDocProvider } from '../../../src/providers/dingtalk-doc.js';
import { DingtalkStorageProvider } from '../../../src/providers/dingtalk-storage.js';
import { TaskRegistry } from '../../../src/providers/registry.js';

const fastRetry = { policy: { attempts: 3, baseDelayMs: 20, maxDelayMs: 100 } };
const UNION = 'union-abc';
const TASKS = /^\/v(1|2)\.0\/(storage|doc)\//;
const TOKEN = '/v1.0/oauth2/accessToken';

let fake: FakeDingtalk;
let api: DingtalkApi;
let registry: TaskRegistry;

function client(overrides: Partial<ConstructorParameters<typeof DingtalkApi>[0]> = {}) {
  return new DingtalkApi({
    clientId: fake.clientId,
    clientSecret: fake.clientSecret,
    apiBase: fake.baseUrl,
    oapiBase: fake.baseUrl,
    timeoutMs: 2000,
    retry: fastRetry,
    ...overrides,
  });
}

beforeEach(async () => {
  fake = new FakeDingtalk();
  await fake.listen();
  api = client();
  registry = new TaskRegistry({ dingtalk: [new DingtalkStorageProvider(api), new DingtalkDocProvider(api)] });
});
afterEach(() => fake.close());

describe('DingTalk task providers over undici against the fake', () => {
  it('follows a storage task INIT → IN_PROGRESS → FAIL with its fail message, asking as the operator', async () => {
    fake.addTask({ id: 'mv-1', kind: 'storage', total: 20, outcome: 'failed', runningSteps: 2, failMessage: '目标文件夹不存在' });
    const states = [];
    for (let i = 0; i < 4; i++) states.push(await registry.fetch({ app: 'dingtalk', platform: 'dingtalk', id: 'mv-1', kind: 'storage', operator: UNION }));
    expect(states.map((s) => s.state)).toEqual(['queued', 'running', 'running', 'failed']);
    expect(states[3]).toMatchObject({ failureReason: '目标文件夹不存在', total: 20 });
    expect(fake.calls(/storage/).every((r) => r.query.get('unionId') === UNION)).toBe(true);
  });

  it('follows a doc task -1 → 0 → 2 (partial), reading succCount', async () => {
    fake.addTask({ id: 'copy-1', kind: 'doc', total: 5, outcome: 'partial', runningSteps: 1 });
    const states = [];
    for (let i = 0; i < 3; i++) states.push(await registry.fetch({ app: 'dingtalk', platform: 'dingtalk', id: 'copy-1', kind: 'doc' }));
    expect(states.map((s) => s.state)).toEqual(['queued', 'running', 'partial']);
    expect(states[2]).toMatchObject({ succeeded: 4, failed: 1, total: 5 });
  });

  it("takes its tokens from the app's token source when given one (the seam for suite apps), never from oauth2", async () => {
    fake.addTask({ id: 'copy-2', kind: 'doc', total: 1, outcome: 'succeeded' });
    let asked = 0;
    const viaSource = client({
      clientSecret: 'not-the-secret',
      tokenSource: async () => ({ token: fake.tokens.issue(`suite${++asked}`), expiresInSec: 7200 }),
    });
    const reg = new TaskRegistry({ dingtalk: [new DingtalkDocProvider(viaSource)] });
    await reg.fetch({ app: 'dingtalk', platform: 'dingtalk', id: 'copy-2', kind: 'doc' });
    await reg.fetch({ app: 'dingtalk', platform: 'dingtalk', id: 'copy-2', kind: 'doc' });
    expect(asked).toBe(1);
    expect(fake.calls(/oauth2/)).toHaveLength(0);
  });

  it('asks doc, then storage, and keeps the one that knows the id', async () => {
    fake.addTask({ id: 'only-storage', kind: 'storage', total: 3, outcome: 'succeeded' });
    fake.addTask({ id: 'only-doc', kind: 'doc', total: 3, outcome: 'succeeded' });
    expect((await registry.fetch({ app: 'dingtalk', platform: 'dingtalk', id: 'only-storage', operator: UNION })).ref.kind).toBe('storage');
    expect((await registry.fetch({ app: 'dingtalk', platform: 'dingtalk', id: 'only-doc', operator: UNION })).ref.kind).toBe('doc');
    expect((await registry.fetch({ app: 'dingtalk', platform: 'dingtalk', id: 'only-doc' })).ref.kind).toBe('doc');
    await expect(registry.fetch({ app: 'dingtalk', platform: 'dingtalk', id: 'nobody', operator: UNION })).rejects.toMatchObject({ code: 'TASK_NOT_FOUND' });
    // Without an operator, storage cannot be asked: the answer says so.
    const e = await registry.fetch({ app: 'dingtalk', platform: 'dingtalk', id: 'only-storage' }).catch((x) => x);
    expect(e).toMatchObject({ code: 'TASK_NOT_FOUND' });
    expect(e.message).toMatch(/storage tasks are looked up as the user/);
  });

  it('asks doc first: a doc task needs no unionId, and a missing qyapi_get_member is named only when storage needed it', async () => {
    fake.addTask({ id: 'a-doc', kind: 'doc', total: 3, outcome: 'succeeded' });
    fake.addTask({ id: 'a-storage', kind: 'storage', total: 3, outcome: 'succeeded' });
    fake.denyScope('member');
    const operatorOf = () => api.unionIdOf('staff001');
    expect((await registry.fetch({ app: 'dingtalk', platform: 'dingtalk', id: 'a-doc', operatorOf })).ref.kind).toBe('doc');
    expect(fake.calls('/topapi/v2/user/get')).toHaveLength(0);
    const e = await registry.fetch({ app: 'dingtalk', platform: 'dingtalk', id: 'a-storage', operatorOf }).catch((x) => x);
    expect(e).toMatchObject({ code: 'PERMISSION_DENIED', details: { scopes: ['qyapi_get_member'] } });
  });

  it('surfaces a real error from one side of "ask both" rather than not-found', async () => {
    fake.denyScope('storage');
    const e = await registry.fetch({ app: 'dingtalk', platform: 'dingtalk', id: 'x1', operator: UNION }).catch((x) => x);
    expect(e).toMatchObject({ code: 'PERMISSION_DENIED', details: { scopes: ['Storage.Task.Read'] } });
  });

  it('fetches one token for concurrent first calls and refreshes once after InvalidAuthentication', async () => {
    fake.addTask({ id: 'd', kind: 'doc', total: 1, outcome: 'succeeded', runningSteps: 9 });
    await Promise.all(Array.from({ length: 10 }, () => api.docTask('d')));
    expect(fake.calls(TOKEN)).toHaveLength(1);
    fake.tokens.revokeAll();
    await api.docTask('d');
    expect(fake.calls(TOKEN)).toHaveLength(2);
  });

  it('retries systemError 5xx, waits out a QPS limit, and does not retry paramError', async () => {
    fake.addTask({ id: 'd', kind: 'doc', total: 1, outcome: 'succeeded' });
    fake.inject({ path: TASKS, kind: '5xx' });
    await api.docTask('d');
    expect(fake.calls(TASKS)).toHaveLength(2);

    fake.inject({ path: TASKS, kind: '429' });
    await api.docTask('d');
    const [a, b] = fake.calls(TASKS).slice(-2);
    expect(b!.at - a!.at).toBeGreaterThanOrEqual(950);

    const before = fake.calls(TASKS).length;
    await expect(api.docTask('unknown')).rejects.toMatchObject({ code: 'INVALID_TASK_ID', details: { upstreamCode: 'paramError' } });
    await expect(api.storageTask('unknown', UNION)).rejects.toMatchObject({ code: 'TASK_NOT_FOUND', details: { upstreamCode: 'taskNotExist' } });
    expect(fake.calls(TASKS).length - before).toBe(2);
  });

  it('ends a hang with UPSTREAM_TIMEOUT and a malformed answer with BAD_UPSTREAM_RESPONSE', async () => {
    fake.inject({ path: TASKS, kind: 'hang', times: 3 });
    const quick = client({ timeoutMs: 200, retry: { policy: { attempts: 2, baseDelayMs: 10, maxDelayMs: 10 } } });
    await expect(quick.docTask('d')).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    fake.clearFaults();
    fake.inject({ path: TASKS, kind: 'malformed' });
    await expect(api.docTask('d')).rejects.toMatchObject({ code: 'BAD_UPSTREAM_RESPONSE' });
  });

  it('refuses bad credentials with AUTH_FAILED naming the variables', async () => {
    const wrong = client({ clientSecret: 'nope' });
    const e = (await wrong.docTask('d').catch((x: unknown) => x)) as Error;
    expect(e).toMatchObject({ code: 'AUTH_FAILED' });
    expect(e.message).toContain('DINGTALK_CLIENT_SECRET');
  });

  it('looks up a unionId once per staff id and explains an unknown user', async () => {
    fake.users.set('staff-1', 'union-1');
    expect(await api.unionIdOf('staff-1')).toBe('union-1');
    expect(await api.unionIdOf('staff-1')).toBe('union-1');
    expect(fake.calls('/topapi/v2/user/get')).toHaveLength(1);
    expect(fake.calls('/topapi/v2/user/get')[0]!.query.get('access_token')).toMatch(/^dt-/);
    await expect(api.unionIdOf('ghost')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { upstreamCode: 60121 } });
  });

  it('keeps each API under its client-side QPS limit', async () => {
    fake.addTask({ id: 'd', kind: 'doc', total: 1, outcome: 'succeeded' });
    const limited = client({ perApiPerSecond: 5 });
    await Promise.all(Array.from({ length: 12 }, () => limited.docTask('d')));
    const at = fake.calls(TASKS).map((r) => r.at);
    for (const t of at) expect(at.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(5);
  });
});

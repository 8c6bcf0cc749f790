import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeDingtalk } from '../../src/sandbox/fake-dingtalk.js';
import { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import type { Bot } from '../../src/app/bot.js';
import { startTestBot, until } from '../helpers/bot.js';
import { feishuEnv } from '../helpers/env.js';

const TOKEN = 'test-api-token-0123456789';
const DRIVE = '7360595374803812356';

describe('the script API (POST/GET/DELETE /api/v1/watches) on the real bot', () => {
  let feishu: FakeFeishu;
  let dingtalk: FakeDingtalk;
  let bot: Bot;

  beforeEach(async () => {
    feishu = new FakeFeishu();
    dingtalk = new FakeDingtalk();
    await Promise.all([feishu.listen(), dingtalk.listen()]);
    ({ bot } = await startTestBot({
      ...feishuEnv(feishu),
      DINGTALK_CLIENT_ID: dingtalk.clientId,
      DINGTALK_CLIENT_SECRET: dingtalk.clientSecret,
      DINGTALK_API_BASE: dingtalk.baseUrl,
      DINGTALK_OAPI_BASE: dingtalk.baseUrl,
      DINGTALK_CARD_TEMPLATE_ID: 'tpl',
      API_TOKEN: TOKEN,
    }));
  });
  afterEach(async () => {
    await bot.stop();
    await Promise.all([feishu.close(), dingtalk.close()]);
  });

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${bot.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
      ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
  };
  const post = (body: unknown, headers?: Record<string, string>) => call('POST', '/api/v1/watches', body, headers);
  const feishuOnly = () => ({ ...feishuEnv(feishu) });
  const cardsIn = (chat: string) => feishu.im.inChat(chat).filter((m) => m.text === undefined);

  it('posts a live card into the chat, watches it to the end, mentions who asked, and reports it', async () => {
    feishu.addTask({ id: DRIVE, kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 4 });
    const r = await post({ platform: 'feishu', chatId: 'oc_ops', taskId: DRIVE, title: 'Nightly archive move', notify: ['ou_alice'] });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ cardKey: expect.stringMatching(/^feishu:om_/), state: 'running' });
    expect(r.headers.get('location')).toBe(`/api/v1/watches/${encodeURIComponent(r.body.cardKey)}`);
    const card = cardsIn('oc_ops')[0]!;
    expect(JSON.stringify(card.card)).toContain('Nightly archive move');
    expect(JSON.stringify(card.card)).toContain('1 waiting to be notified');

    const mention = await until('the mention', () => feishu.im.inChat('oc_ops').find((m) => m.text !== undefined));
    expect(mention.text).toContain('<at user_id="ou_alice"></at>');
    expect(mention.text).toContain('Nightly archive move has ended: Succeeded');
    expect(mention.reply_to).toBe(card.message_id); // it points at the card

    const got = await call('GET', `/api/v1/watches/${encodeURIComponent(r.body.cardKey)}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({
      cardKey: r.body.cardKey,
      platform: 'feishu',
      chatId: 'oc_ops',
      status: 'done',
      task: { state: 'succeeded', ref: { kind: 'drive', id: DRIVE } },
    });
    const stop = await call('DELETE', `/api/v1/watches/${encodeURIComponent(r.body.cardKey)}`);
    expect(stop.body).toMatchObject({ status: 'done' });
    expect((await call('GET', '/api/v1/watches/feishu%3Aom_nope')).status).toBe(404);
    expect((await call('DELETE', '/api/v1/watches/feishu%3Aom_nope')).status).toBe(404);
  });

  it('DELETE stops a live card', async () => {
    feishu.addTask({ id: '99', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 10_000 });
    const r = await post({ platform: 'feishu', chatId: 'oc_ops', taskId: '99' });
    const stop = await call('DELETE', `/api/v1/watches/${encodeURIComponent(r.body.cardKey)}`);
    expect(stop).toMatchObject({ status: 200, body: { cardKey: r.body.cardKey, status: 'stopped' } });
    await until('the stopped card', () => JSON.stringify(cardsIn('oc_ops')[0]!.card).includes('Automatic updates stopped'));
  });

  it('wants the bearer token', async () => {
    expect((await call('POST', '/api/v1/watches', {}, { authorization: '' })).status).toBe(401);
    const wrong = await call('GET', '/api/v1/watches/x', undefined, { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer');
    expect(cardsIn('oc_ops')).toHaveLength(0);
  });

  it('answers bad requests precisely and posts nothing', async () => {
    const bad = async (body: unknown) => (await post(body)).body.error;
    expect(await bad('{not json')).toMatchObject({ code: 'INVALID_JSON' });
    expect((await bad({ platform: 'feishu', taskId: '1' })).issues).toEqual([{ path: 'chatId', message: expect.any(String) }]);
    expect((await bad({ platform: 'slack', chatId: 'c', taskId: '1' })).issues[0].path).toBe('platform');
    expect((await bad({ platform: 'feishu', chatId: 'c', taskId: '1', colour: 'red' })).issues[0].message).toBe('unknown field(s): colour');
    expect((await bad({ platform: 'feishu', chatId: 'c', taskId: '1', kind: 'storage' })).issues).toEqual([
      { path: 'kind', message: 'this kind does not exist on this platform' },
    ]);
    expect((await bad({ platform: 'feishu', chatId: 'c', taskId: '1', notify: ['<at user_id="all">'] })).issues[0].path).toBe('notify.0');
    expect((await bad({ platform: 'feishu', chatId: 'c', taskId: '1', title: 'x'.repeat(101) })).issues[0].path).toBe('title');
    const wrongType = await fetch(`${bot.url}/api/v1/watches`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
    });
    expect(wrongType.status).toBe(415);
    expect(feishu.im.messages.size).toBe(0);
  });

  it('says what the platform said: unknown task 404, missing scope 403 naming it, malformed id 400', async () => {
    const missing = await post({ platform: 'feishu', chatId: 'oc_ops', taskId: '404404' });
    expect(missing).toMatchObject({ status: 404, body: { error: { code: 'TASK_NOT_FOUND' } } });
    feishu.denyScope('/open-apis/drive/v1/files/task_check');
    const denied = await post({ platform: 'feishu', chatId: 'oc_ops', taskId: '5' });
    expect(denied.status).toBe(403);
    expect(denied.body.error).toMatchObject({ code: 'PERMISSION_DENIED', scopes: expect.arrayContaining(['drive:drive']) });
    const malformed = await post({ platform: 'feishu', chatId: 'oc_ops', taskId: 'not an id' });
    expect(malformed.status).toBe(400);
    expect(feishu.im.messages.size).toBe(0);
  });

  it('Idempotency-Key: a retry gets the first answer and never posts twice; another body under the key is refused', async () => {
    feishu.addTask({ id: '77', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 10_000 });
    const body = { platform: 'feishu', chatId: 'oc_ops', taskId: '77' };
    const both = await Promise.all([post(body, { 'idempotency-key': 'import-2026-12-01' }), post(body, { 'idempotency-key': 'import-2026-12-01' })]);
    expect(both.map((r) => r.status).sort()).toEqual([201, 409]);
    const again = await post(body, { 'idempotency-key': 'import-2026-12-01' });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.cardKey).toBe(both.find((r) => r.status === 201)!.body.cardKey);
    expect(cardsIn('oc_ops')).toHaveLength(1);
    expect((await post({ ...body, taskId: '78' }, { 'idempotency-key': 'import-2026-12-01' })).body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    // A permanent failure is the key's answer too: the retry is not sent upstream again.
    const calls = feishu.calls(/task_check/).length;
    expect((await post({ ...body, taskId: '404' }, { 'idempotency-key': 'k2' })).status).toBe(404);
    expect((await post({ ...body, taskId: '404' }, { 'idempotency-key': 'k2' })).status).toBe(404);
    expect(feishu.calls(/task_check/).length).toBe(calls + 1);
  });

  it('posts to DingTalk too; without a session webhook the people waiting are told in their 1:1 chat', async () => {
    dingtalk.addTask({ id: 'mv-1', kind: 'storage', total: 3, outcome: 'succeeded', queuedSteps: 0, runningSteps: 3 });
    const r = await post({ platform: 'dingtalk', chatId: 'cidOps==', taskId: 'mv-1', kind: 'storage', unionId: 'union-001', notify: ['staff042'] });
    expect(r.status).toBe(201);
    expect(r.body.cardKey).toMatch(/^dingtalk:tb-/);
    const told = await until('the 1:1 notice', () => dingtalk.im.messages.find((m) => m.via === 'user' && m.to === 'staff042'));
    expect(told.text).toContain('has ended');
    expect(dingtalk.calls(/storage\/tasks/)[0]!.query.get('unionId')).toBe('union-001');
  });

  it("GET shows a card's task with emails and mobiles masked, and refuses a card of a chat the allowlist does not admit", async () => {
    const db = { DATABASE_URL: `sqlite:${join(mkdtempSync(join(tmpdir(), 'taskbot-api-')), 'bot.db')}` };
    await bot.stop();
    ({ bot } = await startTestBot({ ...feishuOnly(), API_TOKEN: TOKEN, ...db }));
    const id = 'c0ffee00c0ffee00c0ffee00c0ffee07';
    feishu.addTask({
      id,
      kind: 'contact',
      total: 5,
      outcome: 'partial',
      queuedSteps: 0,
      runningSteps: 1,
      advance: 'poll',
      failedRows: [{ name: '张三', email: 'zhang.san@example.com', mobile: '13912345678' }],
    });
    const r = await post({ platform: 'feishu', chatId: 'oc_ops', taskId: id });
    expect(r.status).toBe(201);
    const got = await until('the failed rows', async () => {
      const g = await call('GET', `/api/v1/watches/${encodeURIComponent(r.body.cardKey)}`);
      return g.body.task?.items?.length > 0 && g;
    });
    const raw = JSON.stringify(got.body);
    expect(raw).toContain('z***@example.com');
    expect(raw).toContain('139****5678');
    expect(raw).not.toContain('zhang.san@');
    expect(raw).not.toContain('13912345678');

    await bot.stop();
    ({ bot } = await startTestBot({ ...feishuOnly(), API_TOKEN: TOKEN, ALLOWED_CHAT_IDS: 'oc_other', ...db }));
    const refused = await call('GET', `/api/v1/watches/${encodeURIComponent(r.body.cardKey)}`);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('PERMISSION_DENIED');
    expect(JSON.stringify(refused.body)).not.toContain('@example.com');
  });

  it('is off without API_TOKEN, and the OpenAPI description is served with it', async () => {
    const doc = await call('GET', '/api/v1/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.paths).toHaveProperty(['/api/v1/watches', 'post']);
    expect(doc.body.components.schemas.WatchRequest.required).toEqual(expect.arrayContaining(['platform', 'chatId', 'taskId']));
    await bot.stop();
    ({ bot } = await startTestBot({ ...feishuEnv(feishu) }));
    expect((await post({ platform: 'feishu', chatId: 'oc_ops', taskId: '1' })).status).toBe(404);
  });
});

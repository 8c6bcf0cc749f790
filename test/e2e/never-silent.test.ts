import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOPIC_CARD, TOPIC_ROBOT } from 'dingtalk-stream';
import { afterEach, describe, expect, it } from 'vitest';
import { taskCard } from '../../src/cards/task-card.js';
import { FakeDingtalk } from '../../src/sandbox/fake-dingtalk.js';
import { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import type { Bot } from '../../src/app/bot.js';
import { startTestBot, until, type LogSink } from '../helpers/bot.js';
import { dingtalkEnv, feishuEnv } from '../helpers/env.js';

describe('every command gets an answer, also when the normal way fails', () => {
  let feishu: FakeFeishu | undefined;
  let dingtalk: FakeDingtalk | undefined;
  let bot: Bot | undefined;
  let sink: LogSink;

  afterEach(async () => {
    await bot?.stop();
    bot = undefined;
    await feishu?.close();
    await dingtalk?.close();
    feishu = dingtalk = undefined;
  });

  async function withFeishu(extra: Parameters<typeof startTestBot>[2] = {}, env: Record<string, string> = {}) {
    feishu = new FakeFeishu();
    await feishu.listen();
    ({ bot, sink } = await startTestBot({ ...feishuEnv(feishu), ...env }, undefined, extra));
    return feishu;
  }

  async function withDingtalk(env: Record<string, string> = {}) {
    dingtalk = new FakeDingtalk();
    await dingtalk.listen();
    dingtalk.users.set('staff001', 'union-001');
    ({ bot, sink } = await startTestBot({ ...dingtalkEnv(dingtalk), ...env }));
    return dingtalk;
  }

  it('Feishu: the asking message was recalled before the answer: the card goes to the chat', async () => {
    const f = await withFeishu();
    f.addTask({ id: '11', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 9 });
    const { messageId, event } = f.say('oc_recall', 'status 11');
    f.im.recalledInbound.add(messageId);
    await f.gateway.push(event);
    const posted = await until('the card in the chat', () => f.im.inChat('oc_recall')[0]);
    expect(posted.reply_to).toBeUndefined();
    expect(JSON.stringify(posted.card)).toContain('"action":"refresh"');
  });

  it('a full work queue: "too busy, try again in a minute", not silence', async () => {
    const f = await withFeishu({ queue: { concurrency: 1, maxPending: 1 } }, { UPSTREAM_TIMEOUT_MS: '300' });
    f.addTask({ id: '12', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 9 });
    f.inject({ path: /task_check/, kind: 'hang', times: 10 });
    const chats = ['oc_q1', 'oc_q2', 'oc_q3', 'oc_q4'];
    for (const [i, chat] of chats.entries()) await f.gateway.push(f.say(chat, 'status 12', { user: `ou_user_q${i}` }).event);
    await until('busy answers', () => chats.filter((c) => JSON.stringify(f.im.inChat(c)).includes('too busy')).length >= 2);
    expect(sink.text).toContain('inbound queue full');
  });

  it('a reply that keeps failing is retried, then logged at error with the chat and the command', async () => {
    const f = await withFeishu();
    f.inject({ path: /\/reply$/, kind: '5xx', times: 100 });
    await f.gateway.push(f.say('oc_fail', 'help').event);
    await until('the error line', () => sink.text.includes('could not answer a command'), 20_000);
    const line = JSON.parse(sink.lines.find((l) => l.includes('could not answer a command'))!) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 50, chat: 'oc_fail', command: 'help', code: 'UPSTREAM_UNAVAILABLE' });
    expect(f.calls(/\/reply$/).length).toBeGreaterThan(1);
  }, 30_000);

  it('DingTalk: a template id the card platform does not know: markdown answer, the admin told once in the chat and in the log', async () => {
    const d = await withDingtalk();
    d.im.templates.add('the-real-template');
    d.addTask({ id: 'copy-5', kind: 'doc', total: 10, outcome: 'succeeded', queuedSteps: 0, runningSteps: 50 });
    await d.stream.push(TOPIC_ROBOT, d.robotMessage('cidTpl==', 'status copy-5 doc', { webhook: false }).data);
    const first = await until('a markdown answer', () => d.im.messages.find((m) => m.to === 'cidTpl=='));
    expect(first.text).toContain('copy-5');
    const plain = (t: string) => t.replace(/\\/g, ''); // markdown escapes the underscores
    expect(plain(first.text)).toContain('DINGTALK_CARD_TEMPLATE_ID');
    expect(sink.text).toContain('DingTalk cards cannot be created');
    await d.stream.push(TOPIC_ROBOT, d.robotMessage('cidTpl==', 'status copy-5 doc', { webhook: false }).data);
    await until('a second answer', () => d.im.messages.filter((m) => m.to === 'cidTpl==').length === 2);
    expect(plain(d.im.messages.filter((m) => m.to === 'cidTpl==')[1]!.text)).not.toContain('DINGTALK_CARD_TEMPLATE_ID');
    expect(d.im.cards.size).toBe(0);
  });

  it('DingTalk: the app lacks the card permission: markdown answer naming the permission', async () => {
    const d = await withDingtalk();
    d.denyScope('card');
    d.addTask({ id: 'copy-6', kind: 'doc', total: 10, outcome: 'succeeded', queuedSteps: 0, runningSteps: 50 });
    await d.stream.push(TOPIC_ROBOT, d.robotMessage('cidPerm==', 'status copy-6 doc', { webhook: false }).data);
    const answer = await until('a markdown answer', () => d.im.messages.find((m) => m.to === 'cidPerm=='));
    expect(answer.text).toContain('Card.Instance.Write');
  });

  it('DingTalk card buttons obey ALLOWED_CHAT_IDS like commands do', async () => {
    const d = await withDingtalk({ ALLOWED_CHAT_IDS: 'cidAllowed==' });
    d.addTask({ id: 'copy-7', kind: 'doc', total: 10, outcome: 'succeeded', queuedSteps: 0, runningSteps: 50 });
    // A card in a chat that is not (or no longer) allowed.
    const snap = await bot!.services.registry.fetch({ app: 'dingtalk', platform: 'dingtalk', id: 'copy-7', kind: 'doc' });
    const model = taskCard(snap, { locale: 'en', timeZone: 'Asia/Shanghai', mode: 'live' });
    await bot!.engine.cards.track({ app: 'dingtalk', platform: 'dingtalk', chatId: 'cidOther==', handle: 'tb-elsewhere' }, snap, 'en', model);
    const ack = await d.stream.push(TOPIC_CARD, d.cardClick('tb-elsewhere', 'refresh'));
    expect(ack.data).toMatchObject({
      response: { cardData: { cardParamMap: { note: 'This chat may not use taskbot. Ask an admin to add chat id cidOther== to ALLOWED_CHAT_IDS.' } } },
    });
    expect(d.calls(/doc\/task\/info/)).toHaveLength(1); // only the fetch above: the click cost no poll
  });

  /** Another process holds the SQLite file's write lock for `ms` (a backup, a second taskbot): resolves once it has it. */
  async function lockStore(file: string, ms: number) {
    const locker = spawn(process.execPath, [
      '-e',
      `const D=require('better-sqlite3');const d=new D(${JSON.stringify(file)});d.exec('BEGIN EXCLUSIVE');console.log('locked');setTimeout(()=>{d.exec('COMMIT');d.close()},${ms})`,
    ]);
    await new Promise((r) => locker.stdout.once('data', r));
    return { unlocked: new Promise((r) => locker.once('exit', r)) };
  }

  it('the store fails when a command arrives: it is answered with an apology, and its error id is in the log', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'taskbot-silent-')), 'bot.db');
    const f = await withFeishu({}, { DATABASE_URL: `sqlite:${file}` });
    const { unlocked } = await lockStore(file, 3000);
    const { messageId, event } = f.say('oc_store', 'help');
    await f.gateway.push(event);
    const reply = await until('the apology', () => f.im.inChat('oc_store').find((m) => m.reply_to === messageId));
    const id = /"content":"([0-9a-f]{8})"/.exec(JSON.stringify(reply.card))?.[1];
    expect(id).toMatch(/^[0-9a-f]{8}$/);
    const line = sink.lines.find((l) => l.includes('the store could not keep a command'));
    expect(line).toContain(id!);
    await unlocked;
  });

  it("a script's card that cannot be watched (the store fails once it is posted) shows the error instead of looking live, and the API answers the error", async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'taskbot-silent-')), 'bot.db');
    const f = await withFeishu({}, { DATABASE_URL: `sqlite:${file}`, API_TOKEN: 'token-0123456789abcdef' });
    f.addTask({ id: '14', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 30 });
    // The post reaches the platform slowly; meanwhile another process takes the store's write lock.
    f.latency.push({ path: /\/im\/v1\/messages$/, ms: 800 });
    const answer = fetch(`${bot!.url}/api/v1/watches`, {
      method: 'POST',
      headers: { authorization: 'Bearer token-0123456789abcdef', 'content-type': 'application/json' },
      body: JSON.stringify({ platform: 'feishu', chatId: 'oc_api', taskId: '14' }),
    });
    await until('the post reached the platform', () => f.calls(/\/im\/v1\/messages$/).length > 0);
    const { unlocked } = await lockStore(file, 4000);
    const r = await answer;
    expect(r.status).toBe(500);
    const { error } = (await r.json()) as { error: { code: string; message: string } };
    const [card] = f.im.inChat('oc_api');
    const shown = JSON.stringify(card!.card);
    // The card names the error the answer names (and its error id): it does not pretend to be live.
    expect(shown).toContain(error.code);
    expect(shown).toContain(/error id (\w+)/.exec(error.message)![1]);
    expect(shown).not.toContain('"action":"stop"');
    await unlocked;
  });

  it('the store fails when a button is pressed: the toast says so, with the error id the log carries', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'taskbot-silent-')), 'bot.db');
    const f = await withFeishu({}, { DATABASE_URL: `sqlite:${file}` });
    f.addTask({ id: '13', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 30 });
    const { messageId, event } = f.say('oc_press', 'status 13');
    await f.gateway.push(event);
    const card = await until('the card', () => f.im.inChat('oc_press').find((m) => m.reply_to === messageId));
    await until('watched', () => bot!.store.cards.get(`feishu:${card.message_id}`));
    const { unlocked } = await lockStore(file, 3000);
    const ack = await f.gateway.push(f.click(card.message_id, 'stop'));
    const toast = (ack.data as { toast?: { type: string; content: string } }).toast;
    expect(toast?.type).toBe('error');
    const id = /Error id: ([0-9a-f]{8})/.exec(toast?.content ?? '')?.[1];
    expect(id).toMatch(/^[0-9a-f]{8}$/);
    expect(sink.lines.find((l) => l.includes('card action failed'))).toContain(id!);
    await unlocked;
  });
});

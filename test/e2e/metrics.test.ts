import { TOPIC_ROBOT } from 'dingtalk-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDingtalk } from '../../src/sandbox/fake-dingtalk.js';
import { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import type { Bot } from '../../src/app/bot.js';
import { startTestBot, until } from '../helpers/bot.js';
import { bothEnv } from '../helpers/env.js';

/** The value of one sample in Prometheus text, or undefined when it is not there. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('/metrics after a scripted session on both platforms', () => {
  let feishu: FakeFeishu;
  let dingtalk: FakeDingtalk;
  let bot: Bot;
  const TOKEN = 'metrics-secret';

  beforeAll(async () => {
    feishu = new FakeFeishu();
    dingtalk = new FakeDingtalk();
    await Promise.all([feishu.listen(), dingtalk.listen()]);
    dingtalk.users.set('staff001', 'union-001');
    ({ bot } = await startTestBot({ ...bothEnv(feishu, dingtalk), METRICS_TOKEN: TOKEN }));
  });
  afterAll(async () => {
    await bot.stop();
    await Promise.all([feishu.close(), dingtalk.close()]);
  });

  it('wants the bearer token when METRICS_TOKEN is set', async () => {
    expect((await fetch(`${bot.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${bot.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(`${bot.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });

  it('counts events, commands, upstream calls, card writes, limiter waits and digest runs', async () => {
    // Feishu: a live task (one 5xx on the way, so one call is a retry), a button, and a burst of help in one chat.
    const id = 'ab'.padEnd(32, '0');
    feishu.addTask({ id, kind: 'contact', total: 100, outcome: 'succeeded', queuedSteps: 0, runningSteps: 40 });
    feishu.inject({ path: /contact\/v2\/task\/get/, kind: '5xx', times: 1 });
    const s = feishu.say('oc_m', `status ${id}`);
    await feishu.gateway.push(s.event);
    const reply = await until('the card', () => feishu.im.inChat('oc_m').find((m) => m.reply_to === s.messageId));
    await until('an update', () => reply.history.length >= 2);
    await feishu.gateway.push(feishu.click(reply.message_id, 'refresh'));
    // At once, so the chat's 5/s limit is met however slowly the machine acknowledges each push.
    await Promise.all(Array.from({ length: 7 }, () => feishu.gateway.push(feishu.say('oc_burst', 'help').event)));
    await until('seven help cards', () => feishu.im.inChat('oc_burst').length === 7, 10_000);
    // DingTalk: a live doc task.
    dingtalk.addTask({ id: 'copy-1', kind: 'doc', total: 10, outcome: 'succeeded', queuedSteps: 0, runningSteps: 30 });
    await dingtalk.stream.push(TOPIC_ROBOT, dingtalk.robotMessage('cidM==', 'status copy-1 doc').data);
    await until('the DingTalk card', () => [...dingtalk.im.cards.values()][0]);
    // A digest due now.
    const now = Date.now();
    await bot.store.digests.upsert({
      chat_key: 'feishu:oc_m',
      app: 'feishu',
      platform: 'feishu',
      chat_id: 'oc_m',
      cron: '0 9 * * *',
      time_zone: 'Asia/Shanghai',
      locale: 'en',
      spec: 'daily 09:00',
      last_fired_at: null,
      next_fire_at: now,
      created_at: now - 1000,
    });
    await until('the digest', () => feishu.im.inChat('oc_m').length >= 2, 5000);

    // Each count is made once its write came back, a moment after the fake saw it (the digest's after
    // the store recorded the firing): scrape until every one is in, then look at each.
    const expected: [string, Record<string, string>][] = [
      ['taskbot_events_total', { platform: 'feishu', type: 'im.message.receive_v1' }],
      ['taskbot_events_total', { platform: 'feishu', type: 'card.action.trigger' }],
      ['taskbot_events_total', { platform: 'dingtalk', type: 'robot_message' }],
      ['taskbot_commands_total', { command: 'status', outcome: 'ok' }],
      ['taskbot_upstream_calls_total', { api: 'feishu contact v2 task/get', outcome: 'ok', retried: 'true' }],
      ['taskbot_upstream_calls_total', { api: 'feishu contact v2 task/get', outcome: 'UPSTREAM_UNAVAILABLE', retried: 'false' }],
      ['taskbot_upstream_calls_total', { api: 'dingtalk card v1.0 createAndDeliver', outcome: 'ok' }],
      ['taskbot_card_writes_total', { platform: 'feishu', op: 'send', outcome: 'ok' }],
      ['taskbot_card_writes_total', { platform: 'feishu', op: 'update', outcome: 'ok' }],
      ['taskbot_card_writes_total', { platform: 'feishu', op: 'digest', outcome: 'ok' }],
      ['taskbot_card_writes_total', { platform: 'dingtalk', op: 'send', outcome: 'ok' }],
      ['taskbot_rate_limit_waits_total', { limiter: 'feishu send' }],
      ['taskbot_digest_runs_total', { outcome: 'sent' }],
    ];
    const scrape = async () => (await fetch(`${bot.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    const text = await until(
      'every count',
      async () => {
        const t = await scrape();
        return (
          expected.every(([name, labels]) => (sample(t, name, labels) ?? 0) > 0) &&
          sample(t, 'taskbot_commands_total', { command: 'help', outcome: 'ok' }) === 7 &&
          t
        );
      },
      10_000,
    ).catch(scrape);
    const positive = (name: string, labels: Record<string, string> = {}) =>
      expect(sample(text, name, labels), `${name} ${JSON.stringify(labels)}`).toBeGreaterThan(0);
    for (const [name, labels] of expected) positive(name, labels);
    expect(sample(text, 'taskbot_commands_total', { command: 'help', outcome: 'ok' })).toBe(7);
    positive('taskbot_active_cards');
    positive('taskbot_active_tasks');
    expect(sample(text, 'taskbot_platform_connected', { platform: 'feishu' })).toBe(1);
    expect(sample(text, 'taskbot_platform_connected', { platform: 'dingtalk' })).toBe(1);
    expect(sample(text, 'taskbot_work_queue_depth')).toBeGreaterThanOrEqual(0);
    // Counters are counters.
    for (const name of [
      'taskbot_events_total',
      'taskbot_commands_total',
      'taskbot_upstream_calls_total',
      'taskbot_card_writes_total',
      'taskbot_rate_limit_waits_total',
      'taskbot_digest_runs_total',
    ]) {
      expect(text).toContain(`# TYPE ${name} counter`);
    }
  }, 30_000);
});

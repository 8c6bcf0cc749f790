import { TOPIC_CARD, TOPIC_ROBOT } from 'dingtalk-stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeDingtalk } from '../../src/sandbox/fake-dingtalk.js';
import type { Bot } from '../../src/app/bot.js';
import { dingtalkBot, until, type LogSink } from '../helpers/bot.js';

const GROUP = 'cidGroupABC==';

describe('DingTalk bot over Stream mode (real DWClient subclass, fake gateway and OpenAPI)', () => {
  let fake: FakeDingtalk;
  let bot: Bot;
  let sink: LogSink;

  async function start(template = true) {
    ({ fake, bot, sink } = await dingtalkBot({ UPSTREAM_TIMEOUT_MS: '1200', DINGTALK_CARD_TEMPLATE_ID: template ? 'tpl-taskbot' : '' }, { neighbour: true }));
    fake.users.set('staff001', 'union-001');
  }
  afterEach(async () => {
    await bot?.stop();
    await fake?.close();
  });

  const cards = () => [...fake.im.cards.values()];

  it('a robot message → ACK at once → createAndDeliver with the card data → PUT updates to the end', async () => {
    await start();
    fake.addTask({ id: 'copy-77', kind: 'doc', total: 10, outcome: 'succeeded', queuedSteps: 0, runningSteps: 3 });
    const m = fake.robotMessage(GROUP, 'status copy-77');
    const ack = await fake.stream.push(TOPIC_ROBOT, m.data);
    expect(ack.code).toBe(200);
    // Answered before the work (its speed is `npm run bench -- ack`); here only the deadline, which a busy machine keeps too.
    expect(ack.ms).toBeLessThan(3000);
    const card = await until('the card', () => cards()[0]);
    expect(card).toMatchObject({ templateId: 'tpl-taskbot', callbackType: 'STREAM', openSpaceId: `dtv1.card//IM_GROUP.${GROUP}` });
    expect(card.params).toMatchObject({
      title: 'DingTalk doc task · copy-77',
      color: 'blue',
      stateCode: 'running',
      showRefresh: 'true',
      showStop: 'true',
      refreshLabel: 'Refresh',
    });
    await until('the final update', () => card.params.stateCode === 'succeeded', 8000);
    expect(card.params).toMatchObject({ color: 'green', progress: '100', showStop: 'false', showRefresh: 'false' });
    // Polled every 150 ms here, yet the card is updated at most once a second.
    const at = card.history.map((h) => h.at);
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(950);
  });

  it('reads storage tasks as the sender (unionId looked up once) and delivers 1:1 cards to the person', async () => {
    await start();
    fake.addTask({ id: 'mv-1', kind: 'storage', total: 4, outcome: 'succeeded', queuedSteps: 0, runningSteps: 50 });
    await fake.stream.push(TOPIC_ROBOT, fake.robotMessage('cidP2P', 'status mv-1', { p2p: true }).data);
    await fake.stream.push(TOPIC_ROBOT, fake.robotMessage('cidP2P', 'status mv-1 storage', { p2p: true }).data);
    await until('two cards', () => cards().length === 2);
    expect(cards()[0]!.openSpaceId).toBe('dtv1.card//IM_ROBOT.staff001');
    expect(fake.calls('/topapi/v2/user/get')).toHaveLength(1);
    expect(fake.calls(/storage/).every((r) => r.query.get('unionId') === 'union-001')).toBe(true);
  });

  it('answers a card callback within 2 s with fresh data, also when the upstream is slow', async () => {
    await start();
    fake.addTask({ id: 'copy-9', kind: 'doc', total: 100, outcome: 'succeeded', queuedSteps: 0, runningSteps: 200 });
    await fake.stream.push(TOPIC_ROBOT, fake.robotMessage(GROUP, 'status copy-9 doc').data);
    const card = await until('the card', () => cards()[0]);
    const fresh = await fake.stream.push(TOPIC_CARD, fake.cardClick(card.outTrackId, 'refresh'));
    expect(fresh.ms).toBeLessThan(2000);
    expect(fresh.data).toMatchObject({
      response: { cardData: { cardParamMap: { stateCode: 'running', showStop: 'true' } }, cardUpdateOptions: { updateCardDataByKey: true } },
    });

    // The next poll hangs (two timeouts): it holds the task while both presses below are answered.
    const reads = fake.calls(/doc\/task/).length;
    fake.inject({ path: /doc\/task/, kind: 'hang', times: 2 });
    await until('a poll hangs', () => fake.calls(/doc\/task/).length > reads);
    const slow = await fake.stream.push(TOPIC_CARD, fake.cardClick(card.outTrackId, 'refresh'));
    expect(slow.ms).toBeLessThan(2000);
    expect(slow.data).toEqual({
      response: { cardData: { cardParamMap: { note: 'Refreshing; the card will update shortly' } }, cardUpdateOptions: { updateCardDataByKey: true } },
    });

    // The slow refresh still holds the task: Stop answers at once, and that round shows the stopped card.
    const stop = await fake.stream.push(TOPIC_CARD, fake.cardClick(card.outTrackId, 'stop'));
    expect(stop.ms).toBeLessThan(2000);
    expect(stop.data).toMatchObject({ response: { cardData: { cardParamMap: { note: 'Stopped updating' } } } });
    await until('the stopped card', () => card.params.showStop === 'false' && card.params.showRefresh === 'true', 8000);
  });

  it('answers the same msgId once, and politely acknowledges what it cannot use', async () => {
    await start();
    const m = fake.robotMessage(GROUP, 'help');
    await fake.stream.push(TOPIC_ROBOT, m.data);
    await fake.stream.push(TOPIC_ROBOT, m.data);
    await until('help reply', () => fake.im.messages.length >= 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.im.messages).toHaveLength(1);
    expect(fake.im.messages[0]!.via).toBe('session');

    const image = fake.robotMessage(GROUP, '', { msgtype: 'picture' });
    await fake.stream.push(TOPIC_ROBOT, image.data);
    await until('the text-only answer for a picture', () => fake.im.messages.length === 2);
    expect(fake.im.messages[1]!.text).toContain('I read text messages only (this was picture)');
    expect((await fake.stream.push(TOPIC_ROBOT, { nonsense: true })).code).toBe(200);
    expect((await fake.stream.push(TOPIC_CARD, fake.cardClick('tb-unknown', 'refresh'))).data).toEqual({
      response: {
        cardData: { cardParamMap: { note: 'This card is no longer tracked: send the status command again' } },
        cardUpdateOptions: { updateCardDataByKey: true },
      },
    });
    expect((await fake.stream.push(TOPIC_CARD, { weird: 1 })).data).toEqual({ response: {} });
    await until('warning', () => sink.text.includes('malformed robot message ignored'));
  });

  it('without a template: a markdown reply through the session webhook, then one message when the task ends', async () => {
    await start(false);
    fake.addTask({ id: 'copy-3', kind: 'doc', total: 5, outcome: 'partial', queuedSteps: 0, runningSteps: 2 });
    await fake.stream.push(TOPIC_ROBOT, fake.robotMessage(GROUP, 'status copy-3').data);
    await until('the final message', () => fake.im.messages.length === 2, 8000);
    const [first, last] = fake.im.messages;
    expect(first).toMatchObject({ via: 'session' });
    expect(first!.text).toContain('DingTalk doc task · copy-3');
    expect(last).toMatchObject({ via: 'group', to: GROUP });
    expect(last!.text).toContain('Partly failed');
    expect(cards()).toHaveLength(0);
  });

  it('escapes markdown, links and @all from user text in answers', async () => {
    await start(false);
    await fake.stream.push(TOPIC_ROBOT, fake.robotMessage(GROUP, 'status [x](https://evil.example/@all) **bold**').data);
    await until('the answer', () => fake.im.messages.length === 1);
    const text = fake.im.messages[0]!.text;
    expect(text).not.toMatch(/(?<!\\)\]\(|https?:\/\/|@all\b/);
  });

  it('keeps working after the gateway drops the socket; /readyz follows the connection, and the other app serves on', async () => {
    await start();
    const ready = async () => {
      const r = await fetch(`${bot.url}/readyz`);
      return { status: r.status, body: (await r.json()) as { ok: boolean; checks: { apps: Record<string, { ok: boolean }> } } };
    };
    expect((await ready()).status).toBe(200);
    // Up long enough for the connection log (it looks every 250 ms) to have seen it up.
    await new Promise((r) => setTimeout(r, 600));
    // Refused for a second or so (the test's backoff is 50 ms doubling to 400 ms).
    fake.stream.refuseNext = 6;
    fake.stream.dropAll();
    // The neighbour app is still connected: ready (200), with this app shown down in the body.
    const down = await until(
      'down',
      async () => {
        const r = await ready();
        return !r.body.checks.apps.dingtalk!.ok && r;
      },
      3000,
    );
    expect(down.status).toBe(200);
    expect(down.body.ok).toBe(false);
    expect(down.body.checks.apps['dingtalk-bj']).toMatchObject({ ok: true, state: 'connected' });
    await until('back', () => fake.stream.connected === 1, 8000);
    fake.addTask({ id: 'd1', kind: 'doc', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 0 });
    await fake.stream.push(TOPIC_ROBOT, fake.robotMessage(GROUP, 'status d1').data);
    await until('card after reconnect', () => cards().length === 1);
    expect(fake.stream.openCalls).toBe(8);
    // One line when it went and one when it came back, naming the app, whatever the retries between.
    await until('told back', () => sink.text.includes('the app dingtalk (dingtalk) is connected again'), 3000);
    expect(sink.lines.filter((l) => l.includes('the app dingtalk (dingtalk) is not connected'))).toHaveLength(1);
    expect(sink.lines.filter((l) => l.includes('is connected again'))).toHaveLength(1);
  });
});

/**
 * Command to card: a status command in → the reply arriving at the fake, with the task API
 * answering after 0 ms and after 50 ms; taskbot's own overhead is the rest.
 * Button to answer: a card callback → its answer, with a 50 ms task API, on both platforms.
 */
import { TOPIC_CARD, TOPIC_ROBOT } from '../src/platforms/dingtalk/sdk.js';
import { FakeDingtalk } from '../src/sandbox/fake-dingtalk.js';
import { FakeFeishu } from '../src/sandbox/fake-feishu.js';
import { startBenchBot, waitFor } from './bot.js';
import { percentile, round, sleep, type BenchResult } from './stats.js';

const hex = (n: number) => `b0${n.toString(16).padStart(30, '0')}`;
/** Cards pressed in turn in the button benchmark. */
const CARDS = 15;

export async function benchCommand(n = 200): Promise<BenchResult> {
  const fake = new FakeFeishu();
  await fake.listen();
  const bot = await startBenchBot({ FEISHU_APP_ID: fake.appId, FEISHU_APP_SECRET: fake.appSecret, FEISHU_DOMAIN: fake.baseUrl });
  await fake.gateway.waitForConnection();
  const created = new Map<string, number>();
  fake.im.listeners.add((m, kind) => kind === 'created' && m.reply_to && created.set(m.reply_to, performance.now()));
  const overhead: Record<number, number[]> = { 0: [], 50: [] };
  let k = 0;
  for (const upstream of [0, 50]) {
    fake.latency.splice(0, fake.latency.length, { path: /contact\/v2\/task\/get/, ms: upstream });
    for (let i = 0; i < n + 10; i++) {
      const id = hex(++k);
      fake.addTask({ id, kind: 'contact', total: 10, outcome: 'succeeded', queuedSteps: 0, runningSteps: 0 });
      const { messageId, event } = fake.say(`oc_cmd_${k}`, `status ${id}`);
      const t0 = performance.now();
      await fake.gateway.push(event);
      const t1 = await waitFor(() => created.get(messageId));
      // The first ten warm up connections and the token.
      if (i >= 10) overhead[upstream]!.push(t1 - t0 - upstream);
      await sleep(20);
    }
  }
  await bot.stop();
  await fake.close();
  const figures = {
    commands_each: n,
    overhead_p50_ms_upstream_0: round(percentile(overhead[0]!, 50), 2),
    overhead_p99_ms_upstream_0: round(percentile(overhead[0]!, 99), 2),
    overhead_p50_ms_upstream_50: round(percentile(overhead[50]!, 50), 2),
    overhead_p99_ms_upstream_50: round(percentile(overhead[50]!, 99), 2),
  };
  const worst = Math.max(figures.overhead_p99_ms_upstream_0, figures.overhead_p99_ms_upstream_50);
  return {
    name: 'command-to-card',
    figures: { ...figures, p99_vs_target: round(worst / 15, 2) },
    targets: { overhead_p99_ms_upstream_0: '< 15', overhead_p99_ms_upstream_50: '< 15' },
    pass: worst < 15,
  };
}

export async function benchButton(n = 100): Promise<BenchResult> {
  const feishu = new FakeFeishu();
  const dingtalk = new FakeDingtalk();
  await Promise.all([feishu.listen(), dingtalk.listen()]);
  const bot = await startBenchBot({
    FEISHU_APP_ID: feishu.appId,
    FEISHU_APP_SECRET: feishu.appSecret,
    FEISHU_DOMAIN: feishu.baseUrl,
    DINGTALK_CLIENT_ID: dingtalk.clientId,
    DINGTALK_CLIENT_SECRET: dingtalk.clientSecret,
    DINGTALK_API_BASE: dingtalk.baseUrl,
    DINGTALK_OAPI_BASE: dingtalk.baseUrl,
    DINGTALK_CARD_TEMPLATE_ID: 'tpl',
  });
  await Promise.all([feishu.gateway.waitForConnection(), dingtalk.stream.waitForConnection()]);
  // Fifteen cards a platform, pressed in turn by different people: each press reads its task
  // upstream (a person's read within a second of another is answered with it) and stays within
  // the press limits, as a real crowd's presses do.
  const fCards: string[] = [];
  const dCards: string[] = [];
  for (let c = 0; c < CARDS; c++) {
    feishu.addTask({ id: hex(c + 1), kind: 'contact', total: 100_000, outcome: 'succeeded', queuedSteps: 0, runningSteps: 100_000 });
    const f = feishu.say(`oc_btn${c}`, `status ${hex(c + 1)}`);
    await feishu.gateway.push(f.event);
    fCards.push(await waitFor(() => feishu.im.inChat(`oc_btn${c}`)[0]?.message_id));
    dingtalk.addTask({ id: `btn-${c}`, kind: 'doc', total: 100_000, outcome: 'succeeded', queuedSteps: 0, runningSteps: 100_000 });
    await dingtalk.stream.push(TOPIC_ROBOT, dingtalk.robotMessage(`cidBtn${c}`, `status btn-${c} doc`).data);
    dCards.push(await waitFor(() => [...dingtalk.im.cards.keys()][c]));
  }
  feishu.latency.push({ path: /contact\/v2\/task\/get/, ms: 50 });
  dingtalk.latency.push({ path: /doc\/task\/info/, ms: 50 });
  await sleep(1100); // the reads that posted the cards are no longer fresh
  const fMs: number[] = [];
  const dMs: number[] = [];
  for (let i = 0; i < n; i++) {
    fMs.push((await feishu.gateway.push(feishu.click(fCards[i % CARDS]!, 'refresh', { user: `ou_presser${i}` }))).ms);
    dMs.push((await dingtalk.stream.push(TOPIC_CARD, dingtalk.cardClick(dCards[i % CARDS]!, 'refresh', `staff${i}`))).ms);
    await sleep(30);
  }
  await bot.stop();
  await Promise.all([feishu.close(), dingtalk.close()]);
  const figures = {
    presses_each: n,
    feishu_p50_ms: round(percentile(fMs, 50)),
    feishu_p99_ms: round(percentile(fMs, 99)),
    dingtalk_p50_ms: round(percentile(dMs, 50)),
    dingtalk_p99_ms: round(percentile(dMs, 99)),
  };
  const worst = Math.max(figures.feishu_p99_ms, figures.dingtalk_p99_ms);
  return {
    name: 'button-to-answer',
    figures: { ...figures, p99_vs_target: round(worst / 300, 2) },
    targets: { feishu_p99_ms: '< 300 (deadline 3000)', dingtalk_p99_ms: '< 300 (deadline 2000)' },
    pass: worst < 300,
  };
}

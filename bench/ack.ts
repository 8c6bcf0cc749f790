/**
 * Acknowledgement latency at 200 events/s for 30 s: a Feishu long-connection event frame → its
 * ACK, and a Feishu webhook event → HTTP 200. Traffic: a busy group — most messages are chatter
 * the bot only reads, one in ten asks it for help (20 replies/s, under the 50/s send limit).
 */
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'undici';
import { FakeFeishu } from '../src/sandbox/fake-feishu.js';
import { startBenchBot, waitFor } from './bot.js';
import { percentile, round, type BenchResult } from './stats.js';

const RATE = 200;

async function drive(seconds: number, send: (i: number) => Promise<number>): Promise<number[]> {
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  const start = performance.now();
  const total = RATE * seconds;
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(send(i).then((ms) => void latencies.push(ms)));
  }
  await Promise.all(pending);
  return latencies;
}

function event(fake: FakeFeishu, i: number) {
  const addressed = i % 10 === 0;
  return fake.say(`oc_ack_${i % 300}`, addressed ? 'help' : 'lunch at noon?', { mention: addressed, user: `ou_user_${i % 1000}` }).event;
}

export async function benchAck(seconds = 30): Promise<BenchResult> {
  // Long connection.
  const fake = new FakeFeishu();
  await fake.listen();
  const wsBot = await startBenchBot({ FEISHU_APP_ID: fake.appId, FEISHU_APP_SECRET: fake.appSecret, FEISHU_DOMAIN: fake.baseUrl });
  await fake.gateway.waitForConnection();
  const ws = await drive(seconds, async (i) => (await fake.gateway.push(event(fake, i))).ms);
  await wsBot.stop();

  // Webhook.
  const key = 'bench-encrypt-key';
  const hookBot = await startBenchBot({
    FEISHU_APP_ID: fake.appId,
    FEISHU_APP_SECRET: fake.appSecret,
    FEISHU_DOMAIN: fake.baseUrl,
    FEISHU_EVENT_MODE: 'webhook',
    FEISHU_ENCRYPT_KEY: key,
    FEISHU_VERIFICATION_TOKEN: 'v-token',
  });
  // Deliveries before the bot knows its own identity are answered 503 (Feishu delivers them again): wait for it.
  await waitFor(() => (hookBot.apps().feishu?.ok ? true : undefined));
  const hook = await drive(seconds, async (i) => {
    const body = JSON.stringify(event(fake, 100_000 + i));
    const ts = String(Math.floor(Date.now() / 1000));
    const nonce = randomBytes(6).toString('hex');
    const sig = createHash('sha256')
      .update(ts + nonce + key + body)
      .digest('hex');
    const t0 = performance.now();
    const r = await request(`${hookBot.url}/feishu/webhook/event`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'x-lark-request-timestamp': ts, 'x-lark-request-nonce': nonce, 'x-lark-signature': sig },
    });
    await r.body.text();
    if (r.statusCode !== 200) throw new Error(`webhook answered ${r.statusCode}`);
    return performance.now() - t0;
  });
  await hookBot.stop();
  await fake.close();

  const figures = {
    events_each: RATE * seconds,
    ws_ack_p50_ms: round(percentile(ws, 50), 2),
    ws_ack_p99_ms: round(percentile(ws, 99), 2),
    webhook_p50_ms: round(percentile(hook, 50), 2),
    webhook_p99_ms: round(percentile(hook, 99), 2),
    p99_vs_target: round(Math.max(percentile(ws, 99), percentile(hook, 99)) / 20, 2),
  };
  return {
    name: 'ack',
    figures,
    targets: { ws_ack_p99_ms: '< 20 (deadline 3000)', webhook_p99_ms: '< 20 (deadline 3000)' },
    pass: figures.ws_ack_p99_ms < 20 && figures.webhook_p99_ms < 20,
  };
}

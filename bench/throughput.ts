/**
 * Send throughput: 2,000 replies across 200 chats against a fake that enforces Feishu's send
 * limits (50/s and 1000/min per app, 5/s per chat). Report paging: 100 pages at 10 requests/s.
 */
import type { CardModel } from '../src/domain/card.js';
import { FeishuMessenger } from '../src/platforms/feishu/messenger.js';
import { FeishuApi } from '../src/platforms/feishu/api-client.js';
import { reportSubmissions } from '../src/providers/feishu-report.js';
import { FakeFeishu } from '../src/sandbox/fake-feishu.js';
import { round, type BenchResult } from './stats.js';
import { startFakes } from './fakes.js';

const card: CardModel = { type: 'notice', locale: 'en', title: 'taskbot', color: 'blue', blocks: [{ type: 'text', text: 'hello' }] };

export async function benchSend(total = 2000, chats = 200): Promise<BenchResult> {
  // The fake runs in its own process: it counts arrivals as the platform would, undisturbed by our work.
  const fakes = await startFakes();
  await fakes.configure('feishu', { enforceLimits: true, inbound: Array.from({ length: chats }, (_, c) => [`om_parent_${c}`, `oc_send_${c}`]) });
  const api = new FeishuApi({ appId: fakes.feishuApp[0], appSecret: fakes.feishuApp[1], domain: fakes.feishu, timeoutMs: 10_000 });
  const messenger = new FeishuMessenger(api);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: total }, (_, i) => {
      const c = i % chats;
      return messenger.send({ app: 'feishu', platform: 'feishu', chatId: `oc_send_${c}` }, card, { messageId: `om_parent_${c}`, idempotencyKey: `send-${i}` });
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const stats = await fakes.stats('feishu');
  await fakes.stop();
  // The fastest the limits allow: 50 a second, no more than 1000 in any minute (send k starts at the
  // start of its minute plus one second per 50 before it in that minute).
  const ideal = (Math.ceil(total / 1000) - 1) * 60 + Math.floor(((total - 1) % 1000) / 50);
  const figures = {
    replies: total,
    chats,
    seconds: round(seconds),
    achieved_per_s: round(total / seconds, 2),
    limit_bound_seconds: round(ideal),
    ratio_to_limit: round(ideal / seconds, 3),
    rate_limit_answers: Number(stats.limitViolations),
  };
  return {
    name: 'send-throughput',
    figures,
    targets: { ratio_to_limit: '≥ 0.95', rate_limit_answers: '0' },
    pass: figures.ratio_to_limit >= 0.95 && figures.rate_limit_answers === 0,
  };
}

export async function benchPaging(pages = 100): Promise<BenchResult> {
  const fake = new FakeFeishu();
  await fake.listen();
  const base = Math.floor(Date.now() / 1000) - 3600;
  for (let i = 0; i < pages * 20; i++) {
    fake.reports.push({
      task_id: String(i),
      rule_id: 'r',
      rule_name: 'daily',
      from_user_id: 'u',
      from_user_name: 'u',
      department_name: '',
      department_ids: [],
      commit_time: base + (i % 3000),
      to_user_ids: [],
      to_user_names: [],
      form_contents: [],
    });
  }
  const api = new FeishuApi({ appId: fake.appId, appSecret: fake.appSecret, domain: fake.baseUrl, timeoutMs: 10_000 });
  const t0 = performance.now();
  let n = 0;
  for await (const _ of reportSubmissions(api, { from: new Date(base * 1000), to: new Date() })) n++;
  const seconds = (performance.now() - t0) / 1000;
  const calls = fake.calls('/open-apis/report/v1/tasks/query').map((r) => r.at);
  let maxPerSecond = 0;
  for (const t of calls) maxPerSecond = Math.max(maxPerSecond, calls.filter((u) => u >= t && u < t + 1000).length);
  await fake.close();
  // Request k may start at floor(k / 10) seconds: 10 at once, then 10 more each second.
  const ideal = Math.floor((pages - 1) / 10);
  const figures = {
    pages,
    submissions: n,
    seconds: round(seconds, 2),
    limit_bound_seconds: round(ideal, 2),
    ratio_to_limit: round(ideal / seconds, 3),
    max_requests_in_any_second: maxPerSecond,
  };
  return {
    name: 'report-paging',
    figures,
    targets: { ratio_to_limit: '≥ 0.95', max_requests_in_any_second: '≤ 10' },
    pass: figures.ratio_to_limit >= 0.95 && maxPerSecond <= 10,
  };
}

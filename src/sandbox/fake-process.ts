/**
 * Runs the fake Feishu and DingTalk platforms in a process of their own (benchmarks measure
 * taskbot without the fakes' cost; the compose smoke test runs them as a service). Prints one
 * JSON line with their URLs once listening; tasks are added through POST /_fake/tasks.
 * FAKE_HOST, FAKE_FEISHU_PORT and FAKE_DINGTALK_PORT choose where they listen (default: loopback,
 * any port); FAKE_PUBLIC_HOST is the name clients reach them by (it goes into the gateway URLs).
 */
import { FakeDingtalk } from './fake-dingtalk.js';
import { FakeFeishu } from './fake-feishu.js';

const env = process.env;
const host = env.FAKE_HOST ?? '127.0.0.1';
// FAKE_APPS: how many apps of each platform, each its own fake (several apps in one taskbot: the apps benchmark).
const count = Math.max(1, Number(env.FAKE_APPS ?? 1));
const feishus = Array.from({ length: count }, (_, i) =>
  i === 0 ? new FakeFeishu() : new FakeFeishu(`cli_${(0xb0 + i).toString(16).padStart(16, '0')}`, `fake-feishu-secret-${i}`),
);
const dingtalks = Array.from({ length: count }, (_, i) => (i === 0 ? new FakeDingtalk() : new FakeDingtalk(`dingfakeclient${i}`, `fake-dingtalk-secret-${i}`)));
const [feishu, dingtalk] = [feishus[0]!, dingtalks[0]!];
await Promise.all([
  feishu.listen(Number(env.FAKE_FEISHU_PORT ?? 0), host),
  dingtalk.listen(Number(env.FAKE_DINGTALK_PORT ?? 0), host),
  ...[...feishus.slice(1), ...dingtalks.slice(1)].map((f) => f.listen(0, host)),
]);
if (env.FAKE_PUBLIC_HOST) for (const fake of [...feishus, ...dingtalks]) fake.baseUrl = fake.baseUrl.replace(host, env.FAKE_PUBLIC_HOST);
const [f, d] = [feishu.baseUrl, dingtalk.baseUrl];
process.stdout.write(
  `${JSON.stringify({
    feishu: f,
    dingtalk: d,
    feishuApp: [feishu.appId, feishu.appSecret],
    dingtalkApp: [dingtalk.clientId, dingtalk.clientSecret],
    apps: {
      feishu: feishus.map((x) => ({ url: x.baseUrl, appId: x.appId, appSecret: x.appSecret })),
      dingtalk: dingtalks.map((x) => ({ url: x.baseUrl, clientId: x.clientId, clientSecret: x.clientSecret })),
    },
  })}\n`,
);
const stop = () => void Promise.all([...feishus, ...dingtalks].map((x) => x.close())).then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

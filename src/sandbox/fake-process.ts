/**
 * Runs the fake Feishu and DingTalk platforms in a process of their own (benchmarks measure
 * taskbot without the fakes' cost; the compose smoke test runs them as a service). Prints one
 * JSON line with their URLs once listening; tasks are added through POST /_fake/tasks.
 * FAKE_HOST, FAKE_FEISHU_PORT and FAKE_DINGTALK_PORT choose where they listen (default: loopback,
 * any port); FAKE_PUBLIC_HOST is the name clients reach them by (it goes into the gateway URLs).
 */
import { FakeDingtalk } from './fake-dingtalk.js';
import { FakeFeishu } from './fake-feishu.js';

const feishu = new FakeFeishu();
const dingtalk = new FakeDingtalk();
const env = process.env;
const host = env.FAKE_HOST ?? '127.0.0.1';
await Promise.all([feishu.listen(Number(env.FAKE_FEISHU_PORT ?? 0), host), dingtalk.listen(Number(env.FAKE_DINGTALK_PORT ?? 0), host)]);
if (env.FAKE_PUBLIC_HOST) for (const fake of [feishu, dingtalk]) fake.baseUrl = fake.baseUrl.replace(host, env.FAKE_PUBLIC_HOST);
const [f, d] = [feishu.baseUrl, dingtalk.baseUrl];
process.stdout.write(
  `${JSON.stringify({ feishu: f, dingtalk: d, feishuApp: [feishu.appId, feishu.appSecret], dingtalkApp: [dingtalk.clientId, dingtalk.clientSecret] })}\n`,
);
const stop = () => void Promise.all([feishu.close(), dingtalk.close()]).then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

/**
 * Runs the fake Feishu and DingTalk platforms in a process of their own (benchmarks measure
 * taskbot without the fakes' cost). Prints one JSON line with their URLs once listening;
 * tasks are added through POST /_fake/tasks.
 */
import { FakeDingtalk } from './fake-dingtalk.js';
import { FakeFeishu } from './fake-feishu.js';

const feishu = new FakeFeishu();
const dingtalk = new FakeDingtalk();
const [f, d] = await Promise.all([feishu.listen(), dingtalk.listen()]);
process.stdout.write(`${JSON.stringify({ feishu: f, dingtalk: d, feishuApp: [feishu.appId, feishu.appSecret], dingtalkApp: [dingtalk.clientId, dingtalk.clientSecret] })}\n`);
const stop = () => void Promise.all([feishu.close(), dingtalk.close()]).then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

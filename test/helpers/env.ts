import type { FakeDingtalk } from '../../src/sandbox/fake-dingtalk.js';
import type { FakeFeishu } from '../../src/sandbox/fake-feishu.js';

/** The bot's environment for Feishu (long connection) against a fake. */
export const feishuEnv = (f: Pick<FakeFeishu, 'appId' | 'appSecret' | 'baseUrl'>): Record<string, string> => ({
  FEISHU_APP_ID: f.appId,
  FEISHU_APP_SECRET: f.appSecret,
  FEISHU_DOMAIN: f.baseUrl,
});

/** The bot's environment for DingTalk (Stream mode, card template) against a fake. */
export const dingtalkEnv = (d: FakeDingtalk): Record<string, string> => ({
  DINGTALK_CLIENT_ID: d.clientId,
  DINGTALK_CLIENT_SECRET: d.clientSecret,
  DINGTALK_API_BASE: d.baseUrl,
  DINGTALK_OAPI_BASE: d.baseUrl,
  DINGTALK_CARD_TEMPLATE_ID: 'tpl-taskbot',
});

/** Both platforms against their fakes. */
export const bothEnv = (f: FakeFeishu, d: FakeDingtalk) => ({ ...feishuEnv(f), ...dingtalkEnv(d) });

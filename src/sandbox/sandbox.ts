import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { startBot, type Bot } from '../app/bot.js';
import { loadConfig, type Config } from '../config.js';
import { CONSOLE_USER, ConsoleHub } from './console-hub.js';
import { FakeDingtalk } from './fake-dingtalk.js';
import { FakeFeishu } from './fake-feishu.js';
import { SAMPLES, scriptOf } from './samples.js';

export const SANDBOX_CHATS = { feishu: 'oc_sandbox_group', dingtalk: 'cidSandboxGroup==' } as const;

export interface Sandbox {
  bot: Bot;
  feishu: FakeFeishu;
  dingtalk: FakeDingtalk;
  hub: ConsoleHub;
  url: string;
  stop(): Promise<void>;
}

/** The settings the bot runs with in the sandbox: the user's, pointed at the simulated platforms. */
export function sandboxConfig(base: Config, feishu: FakeFeishu, dingtalk: FakeDingtalk): Config {
  const shared = { locale: base.locale, digestTimeZone: base.digestTimeZone, allowedChatIds: [] };
  return {
    ...base,
    // The person at the console runs this taskbot: each app's admin (who may do what: README).
    apps: [
      {
        id: 'feishu',
        platform: 'feishu',
        ...shared,
        adminUserIds: [CONSOLE_USER.feishu],
        appId: feishu.appId,
        appSecret: feishu.appSecret,
        domain: feishu.baseUrl,
        eventMode: 'ws',
      },
      {
        id: 'dingtalk',
        platform: 'dingtalk',
        ...shared,
        adminUserIds: [CONSOLE_USER.dingtalk],
        clientId: dingtalk.clientId,
        clientSecret: dingtalk.clientSecret,
        robotCode: dingtalk.clientId,
        apiBase: dingtalk.baseUrl,
        oapiBase: dingtalk.baseUrl,
        cardTemplateId: 'sandbox-template',
        topBoxTemplateId: 'sandbox-topbox',
        formTemplateId: 'sandbox-form',
      },
    ],
    // The sandbox's tasks exist only while it runs: keep its state in memory.
    databaseUrl: 'sqlite::memory:',
    // The script API is on, for the console's "post from a script" form (the token stays on the server).
    apiToken: base.apiToken ?? randomBytes(24).toString('hex'),
  };
}

/**
 * Simulated Feishu and DingTalk open platforms on loopback, with sample tasks, and the real bot
 * connected to them exactly as it connects to the real ones (long connection, Stream mode,
 * OpenAPI), plus the web console on the bot's HTTP server.
 */
export async function startSandbox(base: Config = loadConfig({}), o: { logger: Logger; watch?: { minPollMs?: number; tickMs?: number } }): Promise<Sandbox> {
  const feishu = new FakeFeishu();
  const dingtalk = new FakeDingtalk();
  await Promise.all([feishu.listen(), dingtalk.listen()]);
  for (const s of SAMPLES) (s.platform === 'feishu' ? feishu : dingtalk).tasks.add(scriptOf(s));
  dingtalk.users.set('staff001', 'union-001');
  // The console's person owns its Feishu group, so Stop works on cards a script posted there too (DingTalk does not tell bots who owns a group).
  feishu.chatRoles.set(SANDBOX_CHATS.feishu, { owner: CONSOLE_USER.feishu, managers: [] });
  const hub = new ConsoleHub(feishu, dingtalk, SANDBOX_CHATS);
  const config = sandboxConfig(base, feishu, dingtalk);
  let bot: Bot;
  try {
    bot = await startBot(config, { logger: o.logger, ...(o.watch && { watch: o.watch }), routes: (http) => hub.routes(http) });
  } catch (e) {
    await Promise.all([feishu.close(), dingtalk.close()]);
    throw e;
  }
  hub.api = { url: bot.url, token: config.apiToken! };
  return {
    bot,
    feishu,
    dingtalk,
    hub,
    url: bot.url,
    async stop() {
      hub.close();
      await bot.stop();
      await Promise.all([feishu.close(), dingtalk.close()]);
    },
  };
}

import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { startBot, type Bot } from '../app/bot.js';
import { loadConfig, type Config } from '../config.js';
import { CONSOLE_USER, ConsoleHub, type ConsoleGroup } from './console-hub.js';
import type { AppConfig } from '../apps-file.js';
import { FakeDingtalk } from './fake-dingtalk.js';
import { FakeFeishu } from './fake-feishu.js';
import { SAMPLES, scriptOf } from './samples.js';

/**
 * The sandbox's apps, a group each: one taskbot serving two Feishu apps (one a Lark tenant) and
 * two DingTalk organisations, each against its own simulated platform (DESIGN §8).
 */
export const SANDBOX_APPS = [
  { app: 'feishu', label: 'Feishu', platform: 'feishu', chat: 'oc_sandbox_group' },
  { app: 'dingtalk', label: 'DingTalk', platform: 'dingtalk', chat: 'cidSandboxGroup==' },
  { app: 'lark', label: 'Lark (a second Feishu app)', platform: 'feishu', chat: 'oc_sandbox_lark' },
  { app: 'dingtalk-bj', label: 'DingTalk · Beijing (a second organisation)', platform: 'dingtalk', chat: 'cidSandboxBeijing==' },
] as const;

export interface Sandbox {
  bot: Bot;
  /** The first Feishu and DingTalk apps' fakes (the apps `feishu` and `dingtalk`). */
  feishu: FakeFeishu;
  dingtalk: FakeDingtalk;
  groups: ConsoleGroup[];
  hub: ConsoleHub;
  url: string;
  stop(): Promise<void>;
}

/** The settings the bot runs with in the sandbox: the user's, pointed at the simulated platforms, an app per group. */
export function sandboxConfig(base: Config, groups: ConsoleGroup[]): Config {
  const shared = { locale: base.locale, digestTimeZone: base.digestTimeZone, allowedChatIds: [] };
  return {
    ...base,
    // The person at the console runs this taskbot: each app's admin (who may do what: README).
    apps: groups.map((g): AppConfig => {
      const common = { id: g.app, ...shared, adminUserIds: [CONSOLE_USER[g.platform]] };
      if (g.platform === 'feishu')
        return { ...common, platform: 'feishu', appId: g.fake.appId, appSecret: g.fake.appSecret, domain: g.fake.baseUrl, eventMode: 'ws' };
      return {
        ...common,
        platform: 'dingtalk',
        clientId: g.fake.clientId,
        clientSecret: g.fake.clientSecret,
        robotCode: g.fake.clientId,
        apiBase: g.fake.baseUrl,
        oapiBase: g.fake.baseUrl,
        cardTemplateId: 'sandbox-template',
        topBoxTemplateId: 'sandbox-topbox',
        formTemplateId: 'sandbox-form',
      };
    }),
    // The sandbox's tasks exist only while it runs: keep its state in memory.
    databaseUrl: 'sqlite::memory:',
    // The script API is on, for the console's "post from a script" form (the token stays on the server).
    apiToken: base.apiToken ?? randomBytes(24).toString('hex'),
  };
}

/** Each group's simulated platform, listening, with the sample tasks (every app of a platform has them all). */
export async function sandboxGroups(): Promise<ConsoleGroup[]> {
  const groups = SANDBOX_APPS.map((a, i): ConsoleGroup => {
    if (a.platform === 'feishu') {
      const fake = i === 0 ? new FakeFeishu() : new FakeFeishu(`cli_${'5a'.repeat(8)}`, 'sandbox-lark-secret');
      // Another tenant hands out other message ids.
      if (i > 0) fake.im.idPrefix = `om_${a.app}`;
      // The console's person owns the group, so Stop works on cards a script posted there too (DingTalk does not tell bots who owns a group).
      fake.chatRoles.set(a.chat, { owner: CONSOLE_USER.feishu, managers: [] });
      return { ...a, fake };
    }
    const fake = i === 1 ? new FakeDingtalk() : new FakeDingtalk(`dingsandbox${a.app.replace(/-/g, '')}`, 'sandbox-dingtalk-secret');
    fake.users.set('staff001', 'union-001');
    return { ...a, fake };
  });
  await Promise.all(groups.map((g) => g.fake.listen()));
  for (const s of SAMPLES) for (const g of groups) if (g.platform === s.platform) g.fake.tasks.add(scriptOf(s));
  return groups;
}

/**
 * Simulated Feishu and DingTalk open platforms on loopback, an app each in its own group, with
 * sample tasks, and the real bot connected to them exactly as it connects to the real ones (long
 * connection, Stream mode, OpenAPI), plus the web console on the bot's HTTP server.
 */
export async function startSandbox(base: Config = loadConfig({}), o: { logger: Logger; watch?: { minPollMs?: number; tickMs?: number } }): Promise<Sandbox> {
  const groups = await sandboxGroups();
  const closeFakes = () => Promise.all(groups.map((g) => g.fake.close()));
  const hub = new ConsoleHub(groups);
  const config = sandboxConfig(base, groups);
  let bot: Bot;
  try {
    bot = await startBot(config, { logger: o.logger, ...(o.watch && { watch: o.watch }), routes: (http) => hub.routes(http) });
  } catch (e) {
    await closeFakes();
    throw e;
  }
  hub.api = { url: bot.url, token: config.apiToken! };
  const first = <P extends ConsoleGroup['platform']>(p: P) => groups.find((g) => g.platform === p)!.fake as Extract<ConsoleGroup, { platform: P }>['fake'];
  return {
    bot,
    feishu: first('feishu'),
    dingtalk: first('dingtalk'),
    groups,
    hub,
    url: bot.url,
    async stop() {
      hub.close();
      await bot.stop();
      await closeFakes();
    },
  };
}

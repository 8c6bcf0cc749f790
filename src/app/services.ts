import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Clock } from '../domain/clock.js';
import { DingtalkApi } from '../platforms/dingtalk/api-client.js';
import { FeishuApi } from '../platforms/feishu/api-client.js';
import { DingtalkDocProvider } from '../providers/dingtalk-doc.js';
import { DingtalkStorageProvider } from '../providers/dingtalk-storage.js';
import { FeishuContactProvider } from '../providers/feishu-contact.js';
import { FeishuDriveProvider } from '../providers/feishu-drive.js';
import { TaskRegistry, type ReadBudget } from '../providers/registry.js';
import type { RetryOptions } from '../http/retry.js';
import type { Telemetry } from '../domain/telemetry.js';
import type { LimitShare } from '../domain/limit-share.js';
import { credentialsSetting, type DingtalkAppConfig, type FeishuAppConfig } from '../apps-file.js';
import type { TaskProvider } from '../providers/provider.js';
import type { Settings } from '../commands/deps.js';
import type { ReportSource } from '../digest/scheduler.js';
import { TaskbotError } from '../domain/errors.js';
import { reportSubmissions } from '../providers/feishu-report.js';

/** One served app's clients: its own token, base URL and limits (DESIGN §8). */
export type AppClients =
  | { config: FeishuAppConfig; platform: 'feishu'; api: FeishuApi }
  | { config: DingtalkAppConfig; platform: 'dingtalk'; api: DingtalkApi };

export interface Services {
  /** Every app, by id, in the order configured. */
  apps: ReadonlyMap<string, AppClients>;
  registry: TaskRegistry;
}

/** Each app's platform client and task providers. */
export function buildServices(
  config: Pick<Config, 'apps' | 'upstreamTimeoutMs'>,
  opts: {
    logger?: Logger;
    clock?: Clock;
    retry?: RetryOptions;
    telemetry?: Pick<Telemetry, 'upstreamCall' | 'rateLimitWait'>;
    share?: LimitShare;
    budget?: ReadBudget;
  } = {},
): Services {
  const t = opts.telemetry;
  const apps = new Map<string, AppClients>();
  const providers: Record<string, TaskProvider[]> = {};
  for (const app of config.apps) {
    const logger = opts.logger?.child({ app: app.id });
    const label = { app: app.id, platform: app.platform };
    const retry: RetryOptions = {
      ...opts.retry,
      onRetry: (err, attempt, delayMs) => logger?.warn({ code: err.code, err: err.toJSON(), attempt, delayMs }, 'upstream call failed; retrying'),
      ...(t && { onCall: (api: string, outcome: string, retried: boolean) => t.upstreamCall(label, api, outcome, retried) }),
    };
    const onRateWait = t && ((limiter: string) => t.rateLimitWait(label, limiter));
    const common = { timeoutMs: config.upstreamTimeoutMs, retry, clock: opts.clock, onRateWait, share: opts.share };
    if (app.platform === 'feishu') {
      const api = new FeishuApi({ ...app, ...common, logger, credentials: credentialsSetting(app) });
      apps.set(app.id, { config: app, platform: 'feishu', api });
      providers[app.id] = [new FeishuContactProvider(api), new FeishuDriveProvider(api)];
    } else {
      const api = new DingtalkApi({ ...app, ...common, credentials: credentialsSetting(app) });
      apps.set(app.id, { config: app, platform: 'dingtalk', api });
      providers[app.id] = [new DingtalkStorageProvider(api), new DingtalkDocProvider(api)];
    }
  }
  const registry = new TaskRegistry(providers, { ...(opts.clock && { clock: opts.clock }), ...(opts.budget && { budget: opts.budget }) });
  return { apps, registry };
}

/** Each app's settings (its own lists, language and zone); an app not served gets the defaults and no admins. */
export function appSettings(config: Pick<Config, 'apps' | 'locale' | 'digestTimeZone' | 'publicUrl'>): Settings {
  const byId = new Map(
    config.apps.map((a) => [a.id, { locale: a.locale, timeZone: a.digestTimeZone, allowedChatIds: a.allowedChatIds, adminUserIds: a.adminUserIds }]),
  );
  const fallback = { locale: config.locale, timeZone: config.digestTimeZone, allowedChatIds: [], adminUserIds: [] };
  return { of: (app) => byId.get(app) ?? fallback, ...(config.publicUrl && { publicUrl: config.publicUrl }) };
}

/** The report submissions digests read, from the Feishu apps (DingTalk has none): undefined when no app has them. */
export function reportSource(services: Services): ReportSource | undefined {
  if (![...services.apps.values()].some((a) => a.platform === 'feishu')) return undefined;
  return {
    async submissions(appId, w) {
      const app = services.apps.get(appId);
      if (app?.platform !== 'feishu') throw new TaskbotError('NOT_CONFIGURED', `the app "${appId}" has no reports (Feishu apps only)`, { app: appId });
      const all = [];
      for await (const s of reportSubmissions(app.api, w)) all.push(s);
      return all;
    },
  };
}

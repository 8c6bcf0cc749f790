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

export interface Services {
  feishu?: FeishuApi;
  dingtalk?: DingtalkApi;
  registry: TaskRegistry;
}

/** The platform clients and task providers for whatever platforms the config enables. */
export function buildServices(
  config: Config,
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
  const retry: RetryOptions = {
    ...opts.retry,
    onRetry: (err, attempt, delayMs) => opts.logger?.warn({ code: err.code, err: err.toJSON(), attempt, delayMs }, 'upstream call failed; retrying'),
    ...(t && { onCall: (api: string, outcome: string, retried: boolean) => t.upstreamCall(api, outcome, retried) }),
  };
  const onRateWait = t && ((limiter: string) => t.rateLimitWait(limiter));
  const feishu = config.feishu
    ? new FeishuApi({ ...config.feishu, timeoutMs: config.upstreamTimeoutMs, retry, clock: opts.clock, logger: opts.logger, onRateWait, share: opts.share })
    : undefined;
  const dingtalk = config.dingtalk
    ? new DingtalkApi({ ...config.dingtalk, timeoutMs: config.upstreamTimeoutMs, retry, clock: opts.clock, onRateWait, share: opts.share })
    : undefined;
  const registry = new TaskRegistry(
    {
      ...(feishu && { feishu: [new FeishuContactProvider(feishu), new FeishuDriveProvider(feishu)] }),
      ...(dingtalk && { dingtalk: [new DingtalkStorageProvider(dingtalk), new DingtalkDocProvider(dingtalk)] }),
    },
    { ...(opts.clock && { clock: opts.clock }), ...(opts.budget && { budget: opts.budget }) },
  );
  return { feishu, dingtalk, registry };
}

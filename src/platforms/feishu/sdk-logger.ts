import type { Logger } from 'pino';

/**
 * The SDK logs every failed call at error level with the raw error; we log the classified
 * error ourselves, so its output goes to debug (warnings stay warnings).
 */
export function sdkLogger(log?: Logger) {
  const l = log?.child({ component: 'feishu-sdk' });
  const at =
    (level: 'debug' | 'warn') =>
    (...args: unknown[]) =>
      l?.[level]({ sdk: args.map(String).join(' ') });
  return { error: at('debug'), warn: at('warn'), info: at('debug'), debug: at('debug'), trace: at('debug') };
}

import type { Logger } from 'pino';
import { ConfigError, exportProxySettings, loadConfig, readEnvironment, type Config } from '../config.js';
import { createLogger } from '../log.js';

/** Exit codes (README, "Command line"): 0 ok, 1 task failed / check failed, 2 usage error. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export class UsageError extends Error {}

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  isTty: boolean;
  env: NodeJS.ProcessEnv;
}

export interface CliContext {
  config: Config;
  logger: Logger;
  io: CliIo;
}

/** Config for a command, or a one-line-per-problem message and the usage exit code. */
export function cliContext(io: CliIo): CliContext {
  const env = readEnvironment(io.env);
  const config = loadConfig(env);
  exportProxySettings(env);
  // Commands print for people; logs go to stderr and only when asked for.
  const logger = createLogger(io.env.LOG_LEVEL ? config.logLevel : 'silent', { write: (s: string) => void process.stderr.write(s) });
  return { config, logger, io };
}

export { ConfigError };

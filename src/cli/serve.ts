import { startBot } from '../app/bot.js';
import { startSandbox } from '../sandbox/sandbox.js';
import { asTaskbotError, type TaskbotError } from '../domain/errors.js';
import { createLogger } from '../log.js';
import { EXIT, type CliContext } from './cli-context.js';

/** Refused credentials, unusable settings and an unusable database file need the operator: exit 2 (usage), not 1, so a supervisor does not restart it in a loop. */
const NEEDS_OPERATOR: ReadonlySet<string> = new Set(['AUTH_FAILED', 'CONFIG_INVALID', 'STORE_UNUSABLE']);
const exitFor = (err: TaskbotError) => (NEEDS_OPERATOR.has(err.code) ? EXIT.usage : EXIT.failed);

/**
 * `taskbot serve`: the bot itself until SIGTERM / SIGINT, then a graceful stop. With no platform
 * credentials (or `taskbot sandbox`) it runs against the simulated platforms with the web console.
 * A signal during start-up stops the bot as soon as it is up; refused credentials stop it too.
 */
export async function runServe(ctx: CliContext, _args: string[] = [], forceSandbox = false): Promise<number> {
  const { config, io } = ctx;
  const sandbox = forceSandbox || config.apps.length === 0;
  // The server logs always (JSON to stdout), at LOG_LEVEL; the sandbox keeps the terminal for people.
  const logger = createLogger(sandbox && !ctx.io.env.LOG_LEVEL ? 'warn' : config.logLevel);
  const signalled = new Promise<'signal'>((resolve) => {
    process.once('SIGTERM', () => resolve('signal'));
    process.once('SIGINT', () => resolve('signal'));
  });
  const fail = (e: unknown, what = 'taskbot could not start') => {
    const err = asTaskbotError(e);
    logger.fatal({ code: err.code, err: err.toJSON() }, what);
    io.err(`${what}: ${err.code}: ${err.message}`);
    return exitFor(err);
  };
  let bot: { stop(): Promise<void>; fatal: Promise<TaskbotError> };
  try {
    if (sandbox) {
      const s = await startSandbox(config, { logger });
      bot = { stop: () => s.stop(), fatal: s.bot.fatal };
      io.out(`taskbot sandbox: no platform credentials are set, so taskbot runs against simulated Feishu and DingTalk.`);
      io.out(`  console:  ${s.url}/`);
      io.out(`  to use a real platform, set FEISHU_APP_ID/FEISHU_APP_SECRET or DINGTALK_CLIENT_ID/DINGTALK_CLIENT_SECRET (see .env.example)`);
    } else {
      bot = await startBot(config, { logger });
    }
  } catch (e) {
    return fail(e);
  }
  const why = await Promise.race([signalled, bot.fatal]);
  await bot.stop();
  return why === 'signal' ? EXIT.ok : fail(why, 'taskbot stopped');
}

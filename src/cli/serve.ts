import { startBot } from '../app/bot.js';
import { startSandbox } from '../sandbox/sandbox.js';
import { asTaskbotError } from '../domain/errors.js';
import { createLogger } from '../log.js';
import { EXIT, type CliContext } from './context.js';

/**
 * `taskbot serve`: the bot itself until SIGTERM / SIGINT, then a graceful stop. With no platform
 * credentials (or `taskbot sandbox`) it runs against the simulated platforms with the web console.
 */
export async function runServe(ctx: CliContext, _args: string[] = [], forceSandbox = false): Promise<number> {
  const { config, io } = ctx;
  const sandbox = forceSandbox || (!config.feishu && !config.dingtalk);
  // The server logs always (JSON to stdout), at LOG_LEVEL; the sandbox keeps the terminal for people.
  const logger = createLogger(sandbox && !ctx.io.env.LOG_LEVEL ? 'warn' : config.logLevel);
  let bot: { stop(): Promise<void> };
  try {
    if (sandbox) {
      const s = await startSandbox(config, { logger });
      bot = s;
      io.out(`taskbot sandbox: no platform credentials are set, so taskbot runs against simulated Feishu and DingTalk.`);
      io.out(`  console:  ${s.url}/`);
      io.out(`  to use a real platform, set FEISHU_APP_ID/FEISHU_APP_SECRET or DINGTALK_CLIENT_ID/DINGTALK_CLIENT_SECRET (see .env.example)`);
    } else {
      bot = await startBot(config, { logger });
    }
  } catch (e) {
    const err = asTaskbotError(e);
    logger.fatal({ code: err.code, err: err.toJSON() }, 'taskbot could not start');
    io.err(`taskbot could not start: ${err.code}: ${err.message}`);
    return EXIT.failed;
  }
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await bot.stop();
  return EXIT.ok;
}

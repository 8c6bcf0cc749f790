import { startBot } from '../app/bot.js';
import { asTaskbotError } from '../domain/errors.js';
import { createLogger } from '../log.js';
import { EXIT, type CliContext } from './context.js';

/** `taskbot serve`: the bot itself, until SIGTERM / SIGINT, then a graceful stop. */
export async function runServe(ctx: CliContext): Promise<number> {
  const { config, io } = ctx;
  if (!config.feishu && !config.dingtalk) {
    io.err('no platform credentials are set, so there is nothing to connect to.');
    io.err('  Feishu:   set FEISHU_APP_ID and FEISHU_APP_SECRET');
    io.err('  DingTalk: set DINGTALK_CLIENT_ID and DINGTALK_CLIENT_SECRET');
    io.err('  (in the environment or in .env; .env.example lists every setting)');
    return EXIT.usage;
  }
  // The server logs always (JSON to stdout), at LOG_LEVEL.
  const logger = createLogger(config.logLevel);
  let bot;
  try {
    bot = await startBot(config, { logger });
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

import { EXIT, type CliContext } from './context.js';

/** `taskbot serve`: the bot itself. Until the sandbox exists, no credentials means a clear stop. */
export async function runServe(ctx: CliContext): Promise<number> {
  const { config, io } = ctx;
  if (!config.feishu && !config.dingtalk) {
    io.err('no platform credentials are set, so there is nothing to connect to.');
    io.err('  Feishu:   set FEISHU_APP_ID and FEISHU_APP_SECRET');
    io.err('  DingTalk: set DINGTALK_CLIENT_ID and DINGTALK_CLIENT_SECRET');
    io.err('  (in the environment or in .env; .env.example lists every setting)');
    return EXIT.usage;
  }
  io.err('taskbot serve: the chat receivers are not built yet in this version; use `taskbot status` meanwhile.');
  return EXIT.usage;
}

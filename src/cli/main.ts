import { ConfigError, cliContext, EXIT, UsageError, type CliContext, type CliIo } from './cli-context.js';
import { runReports, REPORTS_USAGE } from './reports.js';
import { runServe } from './serve.js';
import { runStatus, STATUS_USAGE } from './status.js';
import { DOCTOR_USAGE, runDoctorCommand } from './doctor.js';
import { runWatch, WATCH_USAGE } from './watch.js';

const USAGE = [
  'usage:',
  '  taskbot serve                 run the bot (the sandbox when no platform credentials are set)',
  '  taskbot sandbox               run the bot against simulated platforms, with the web console',
  `  ${STATUS_USAGE}`,
  `  ${REPORTS_USAGE}`,
  `  ${WATCH_USAGE}`,
  `  ${DOCTOR_USAGE}`,
  '',
  'configuration comes from the environment and an optional .env file (see .env.example)',
].join('\n');

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    io.out(USAGE);
    return command ? EXIT.ok : EXIT.usage;
  }
  const commands = {
    serve: runServe,
    status: runStatus,
    reports: runReports,
    sandbox: (c: CliContext, a: string[]) => runServe(c, a, true),
    doctor: runDoctorCommand,
    watch: runWatch,
  };
  const run = Object.hasOwn(commands, command) ? commands[command as keyof typeof commands] : undefined;
  if (!run) {
    io.err(`unknown command "${command}"\n${USAGE}`);
    return EXIT.usage;
  }
  try {
    return await run(cliContext(io), rest);
  } catch (e) {
    if (e instanceof ConfigError) {
      for (const p of e.problems) io.err(`config: ${p}`);
      return EXIT.usage;
    }
    // parseArgs reports unknown or malformed options with this code.
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err((e as Error).message);
      return EXIT.usage;
    }
    throw e;
  }
}

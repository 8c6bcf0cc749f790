import { runDoctor, type Check } from '../doctor/doctor.js';
import { sandboxConfig, sandboxGroups } from '../sandbox/sandbox.js';
import { parseArgs } from 'node:util';
import { EXIT, UsageError, type CliContext } from './cli-context.js';

export const DOCTOR_USAGE = 'taskbot doctor [--app ID]      check credentials, scopes, event delivery, database and clock (of one app)';

/** `taskbot doctor`: a checklist of what taskbot needs, each failure with its fix. Exit 1 on any failure. */
export async function runDoctorCommand(ctx: CliContext, args: string[] = []): Promise<number> {
  const { io } = ctx;
  const { values } = parseArgs({ args, options: { app: { type: 'string' } } });
  if (values.app !== undefined && !ctx.config.apps.some((a) => a.id === values.app)) {
    throw new UsageError(`--app: no app "${values.app}" is configured (apps: ${ctx.config.apps.map((a) => a.id).join(', ') || 'none'})`);
  }
  let config = ctx.config;
  let fakes: { close(): Promise<void> }[] = [];
  if (config.apps.length === 0) {
    const groups = await sandboxGroups();
    fakes = groups.map((g) => g.fake);
    config = sandboxConfig(config, groups);
    io.out('No platform credentials are set: checking against the sandbox (simulated Feishu and DingTalk).');
  }
  let checks: Check[];
  try {
    checks = await runDoctor(config, values.app);
  } finally {
    await Promise.all(fakes.map((f) => f.close()));
  }
  let group = '';
  for (const c of checks) {
    if (c.group !== group) {
      group = c.group;
      io.out(`\n${group}`);
    }
    io.out(`  ${c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}`);
    if (!c.ok && c.fix) io.out(`      fix: ${c.fix}`);
  }
  const failed = checks.filter((c) => !c.ok).length;
  io.out(failed === 0 ? '\nAll checks passed.' : `\n${failed} check(s) failed.`);
  return failed === 0 ? EXIT.ok : EXIT.failed;
}

import { parseArgs } from 'node:util';
import { asTaskbotError } from '../domain/errors.js';
import type { ReportSubmission } from '../domain/report.js';
import { buildServices } from '../app/services.js';
import { pickApp } from '../domain/apps.js';
import type { FeishuApi } from '../platforms/feishu/api-client.js';
import { reportSubmissions } from '../providers/feishu-report.js';
import { messages } from '../i18n/messages.js';
import { EXIT, UsageError, type CliContext } from './cli-context.js';
import { formatError, formatTime } from './format.js';

export const REPORTS_USAGE = 'taskbot reports [--app ID] [--since 24h|7d|90m] [--rule RULE_ID] [--json]';

/** "24h", "7d", "90m" → milliseconds. */
export function parseDuration(s: string): number {
  const m = /^(\d+)\s*([mhd])$/.exec(s.trim());
  if (!m) throw new UsageError(`--since takes a duration like 24h, 7d or 90m, not "${s}"`);
  const n = Number(m[1]);
  if (n <= 0) throw new UsageError('--since must be more than zero');
  return n * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'];
}

/** `taskbot reports`: Feishu report submissions in a recent window, one line each, then a count per rule. */
export async function runReports(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { app: { type: 'string' }, since: { type: 'string', default: '24h' }, rule: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected "${positionals[0]}"\nusage: ${REPORTS_USAGE}`);
  const span = parseDuration(values.since);
  let feishu: FeishuApi;
  try {
    const app = pickApp(ctx.config.apps, 'feishu', values.app);
    const clients = buildServices({ ...ctx.config, apps: ctx.config.apps.filter((a) => a.id === app.id) }, { logger: ctx.logger }).apps.get(app.id);
    if (clients?.platform !== 'feishu') throw new Error('unreachable: a Feishu app without its client');
    feishu = clients.api;
  } catch (e) {
    ctx.io.err(`reports need a Feishu app: ${asTaskbotError(e).message}`);
    return EXIT.usage;
  }
  const to = new Date();
  const from = new Date(to.getTime() - span);
  const all: ReportSubmission[] = [];
  try {
    for await (const s of reportSubmissions(feishu, { from, to, ...(values.rule && { ruleId: values.rule }) })) {
      all.push(s);
      if (values.json) ctx.io.out(JSON.stringify(s));
    }
  } catch (e) {
    for (const l of formatError(asTaskbotError(e), ctx.config.locale)) ctx.io.err(l);
    return EXIT.failed;
  }
  if (values.json) return EXIT.ok;
  const m = messages(ctx.config.locale).words;
  if (all.length === 0) {
    ctx.io.out(m.noReports);
    return EXIT.ok;
  }
  for (const s of all) {
    const dept = s.departmentName ? ` (${s.departmentName})` : '';
    ctx.io.out(`${formatTime(s.commitTime, ctx.config.digestTimeZone)}  ${s.fromUserName}${dept}  ${s.ruleName}`);
  }
  const perRule = new Map<string, number>();
  for (const s of all) perRule.set(s.ruleName, (perRule.get(s.ruleName) ?? 0) + 1);
  ctx.io.out('');
  for (const [rule, n] of perRule) ctx.io.out(`${rule}: ${n} ${m.submissions}`);
  return EXIT.ok;
}

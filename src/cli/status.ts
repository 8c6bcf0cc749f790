import { parseArgs } from 'node:util';
import { systemClock } from '../domain/clock.js';
import { asTaskbotError } from '../domain/errors.js';
import { ALL_KINDS, isTerminal, type Platform, type TaskKind, type TaskSnapshot } from '../domain/task.js';
import { buildServices } from '../app/services.js';
import { pickApp, type AppRef } from '../domain/apps.js';
import { nextPollDelay, MAX_POLL_MS, WATCH_GIVE_UP_MS } from '../watch/backoff.js';
import { EXIT, UsageError, type CliContext } from './cli-context.js';
import { formatError, formatSnapshot, progressLine } from './format.js';

export const STATUS_USAGE =
  'taskbot status <id> --platform feishu|dingtalk [--app ID] [--kind contact|drive|storage|doc] [--union-id U] [--json] [--watch] [--interval SEC]';

export function parseStatusArgs(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      platform: { type: 'string' },
      app: { type: 'string' },
      kind: { type: 'string' },
      'union-id': { type: 'string' },
      json: { type: 'boolean', default: false },
      watch: { type: 'boolean', default: false },
      interval: { type: 'string' },
    },
  });
  const id = positionals[0];
  if (!id || positionals.length > 1) throw new UsageError(`give exactly one task id\nusage: ${STATUS_USAGE}`);
  if (values.platform !== 'feishu' && values.platform !== 'dingtalk') throw new UsageError(`--platform must be feishu or dingtalk\nusage: ${STATUS_USAGE}`);
  if (values.kind !== undefined && !ALL_KINDS.includes(values.kind as TaskKind)) {
    throw new UsageError(`--kind must be one of ${ALL_KINDS.join(', ')}`);
  }
  const interval = values.interval === undefined ? undefined : Number(values.interval);
  if (interval !== undefined && !(interval > 0)) throw new UsageError('--interval must be a positive number of seconds');
  return {
    id,
    platform: values.platform as Platform,
    app: values.app,
    kind: values.kind as TaskKind | undefined,
    operator: values['union-id'],
    json: values.json,
    watch: values.watch,
    minPollMs: interval === undefined ? undefined : Math.round(interval * 1000),
  };
}

/** `taskbot status`: one look, or with --watch a redrawn progress bar until the task ends. */
export async function runStatus(ctx: CliContext, args: string[]): Promise<number> {
  const a = parseStatusArgs(args);
  const { io } = ctx;
  const { registry } = buildServices(ctx.config, { logger: ctx.logger });
  let app: AppRef;
  try {
    app = pickApp(ctx.config.apps, a.platform, a.app);
  } catch (e) {
    // An app not served, or several to choose from: the command line is what needs fixing.
    throw new UsageError(`${asTaskbotError(e).message}\nusage: ${STATUS_USAGE}`);
  }
  const fmt = { locale: ctx.config.locale, timeZone: ctx.config.digestTimeZone };
  const show = (s: TaskSnapshot) => {
    if (a.json) return io.out(JSON.stringify(s));
    for (const l of formatSnapshot(s, fmt)) io.out(l);
  };

  let snap: TaskSnapshot;
  try {
    snap = await registry.fetch({ app: app.id, platform: a.platform, id: a.id, kind: a.kind, operator: a.operator });
  } catch (e) {
    for (const l of formatError(asTaskbotError(e), ctx.config.locale)) io.err(l);
    return EXIT.failed;
  }
  if (!a.watch || isTerminal(snap.state)) {
    show(snap);
    return exitFor(snap);
  }

  const started = systemClock.now();
  const min = a.minPollMs;
  let delay = nextPollDelay(undefined, true, min, MAX_POLL_MS);
  let drawn = 0;
  let last = '';
  const draw = (s: TaskSnapshot) => {
    const fingerprint = JSON.stringify({ ...s, fetchedAt: undefined });
    const changed = fingerprint !== last;
    last = fingerprint;
    if (a.json) {
      if (changed) io.out(JSON.stringify(s));
    } else if (io.isTty) {
      // Redraw the block in place.
      const lines = formatSnapshot(s, fmt);
      io.out(`${drawn ? `\x1b[${drawn}F\x1b[0J` : ''}${lines.join('\n')}`);
      drawn = lines.length;
    } else if (changed) {
      io.out(progressLine(s, fmt));
    }
    return changed;
  };
  draw(snap);
  for (;;) {
    if (systemClock.now() - started > WATCH_GIVE_UP_MS) {
      io.err('stopped watching after 24 hours; run the command again to look once more');
      return EXIT.ok;
    }
    await systemClock.sleep(delay);
    let changed = false;
    try {
      snap = await registry.fetchRef(snap.ref);
      changed = draw(snap);
    } catch (e) {
      const err = asTaskbotError(e);
      if (!err.retryable) {
        for (const l of formatError(err, ctx.config.locale)) io.err(l);
        return EXIT.failed;
      }
      io.err(formatError(err, ctx.config.locale)[0]!);
    }
    if (isTerminal(snap.state)) break;
    delay = nextPollDelay(delay, changed, min, MAX_POLL_MS);
  }
  if (!a.json && !io.isTty) for (const l of formatSnapshot(snap, fmt)) io.out(l);
  return exitFor(snap);
}

/** A finished task that lost items (partial) or failed outright is a failure for scripts. */
function exitFor(s: TaskSnapshot): number {
  return s.state === 'failed' || s.state === 'partial' ? EXIT.failed : EXIT.ok;
}

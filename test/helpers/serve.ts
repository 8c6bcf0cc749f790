import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from './bot.js';

const CLI = join(import.meta.dirname, '../../dist/src/cli.js');

export interface Served {
  child: ChildProcess;
  /** Resolves once the process logged that it runs. */
  ready: Promise<void>;
  log: () => string;
  /** The server's address, from its start-up log line. */
  url: () => string | undefined;
}

/** `taskbot serve` in a process of its own, with only `env` (and PATH) set. */
export function serve(env: Record<string, string>): Served {
  const child = spawn(process.execPath, [CLI, 'serve'], {
    cwd: mkdtempSync(join(tmpdir(), 'taskbot-proc-')),
    env: { PATH: process.env.PATH ?? '', HTTP_PORT: '0', LOG_LEVEL: 'info', BOT_LOCALE: 'en', ...env },
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const ready = until('taskbot is running', () => out.includes('taskbot is running'), 15_000).then(() => undefined);
  // Tests of failed starts never wait for this.
  ready.catch(() => undefined);
  const url = () => /"url":"([^"]+)"/.exec(out)?.[1];
  return { child, ready, log: () => out, url };
}

export const exited = (c: ChildProcess) => new Promise<number | null>((r) => (c.exitCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code))));

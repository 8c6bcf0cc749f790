#!/usr/bin/env node
import type { CliIo } from './cli/cli-context.js';
import { tuneRuntime } from './runtime-flags.js';

// Before the app loads: V8 sizes the heap's first limits while the modules load.
tuneRuntime();
const { main } = await import('./cli/main.js');

const io: CliIo = {
  out: (l) => void process.stdout.write(`${l}\n`),
  err: (l) => void process.stderr.write(`${l}\n`),
  isTty: Boolean(process.stdout.isTTY),
  env: process.env,
};

const code = await main(process.argv.slice(2), io);
process.exitCode = code;
// Whatever is left behind (a socket to a database that went silent) does not keep the process up.
setTimeout(() => process.exit(code), 1000).unref();

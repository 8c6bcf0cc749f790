#!/usr/bin/env node
import type { CliIo } from './cli/context.js';
import { main } from './cli/main.js';

const io: CliIo = {
  out: (l) => void process.stdout.write(`${l}\n`),
  err: (l) => void process.stderr.write(`${l}\n`),
  isTty: Boolean(process.stdout.isTTY),
  env: process.env,
};

process.exitCode = await main(process.argv.slice(2), io);

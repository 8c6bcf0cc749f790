/**
 * `npm run bench [-- name …]`: runs the benchmarks, prints a table and writes bench/results.json.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tuneRuntime } from '../src/runtime-flags.js';
import type { BenchResult } from './stats.js';
import { DEPLOYED_LIMIT_MB, memoryCgroup } from './memory-limit.js';

// Measured as `taskbot serve` runs: with its runtime flags, set before the code under test loads.
tuneRuntime();

// Each loads its code when it runs, in a process of its own (see inChild).
const BENCHES: Record<string, () => Promise<BenchResult>> = {
  ack: async () => (await import('./ack.js')).benchAck(),
  command: async () => (await import('./latency.js')).benchCommand(),
  button: async () => (await import('./latency.js')).benchButton(),
  send: async () => (await import('./throughput.js')).benchSend(),
  paging: async () => (await import('./throughput.js')).benchPaging(),
  watch: async () => (await import('./watch.js')).benchWatch(),
  freshness: async () => (await import('./freshness.js')).benchFreshness(),
  growth: async () => (await import('./growth.js')).benchGrowth(),
  burst: async () => (await import('./burst.js')).benchBurst(),
  apps: async () => (await import('./apps.js')).benchApps(),
  'burst-apps': async () => (await import('./burst-apps.js')).benchBurstApps(),
  'burst-apps-replicas': async () => (await import('./burst-apps.js')).benchBurstAppsReplicas(),
};

/**
 * Run only when named: three replicas of 384 MiB each do not fit in one benchmark's limit (run it
 * with BENCH_MEMORY_LIMIT_MB=0), and it runs in real time (about four minutes).
 */
const ON_DEMAND = new Set(['burst-apps-replicas']);

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = wanted.length > 0 ? wanted : Object.keys(BENCHES).filter((n) => !ON_DEMAND.has(n));
const unknown = names.filter((n) => !Object.hasOwn(BENCHES, n));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}

const resultFile = process.argv.find((a) => a.startsWith('--result='))?.slice('--result='.length);
if (resultFile) {
  // One benchmark in a fresh process: its figures (memory above all) owe nothing to the ones before it.
  writeFileSync(resultFile, JSON.stringify(await BENCHES[names[0]!]!()));
  process.exit(0);
}

// Measured as deployed: inside the memory limit every install way sets (BENCH_MEMORY_LIMIT_MB=0: none).
const limitMb = Number(process.env.BENCH_MEMORY_LIMIT_MB ?? DEPLOYED_LIMIT_MB);
const cgroup = limitMb > 0 ? memoryCgroup(limitMb) : undefined;
console.error(
  cgroup
    ? `each benchmark runs inside a ${limitMb} MiB memory limit, as deployed (BENCH_MEMORY_LIMIT_MB=0: without)`
    : `each benchmark runs without a memory limit${limitMb > 0 ? ' (no memory cgroup could be made here)' : ''}`,
);

const results: BenchResult[] = [];
for (const n of names) {
  console.error(`running ${n}…`);
  const r = await inChild(n);
  results.push(r);
  console.log(`\n## ${r.name} — ${r.pass ? 'meets its targets' : 'MISSES a target'}`);
  console.log('| figure | value | target |\n| --- | --- | --- |');
  for (const [k, v] of Object.entries(r.figures)) console.log(`| ${k} | ${v} | ${r.targets[k] ?? ''} |`);
}
const out = new URL('./results.json', import.meta.url.replace('/dist/bench/', '/bench/'));
cgroup?.remove();
writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), node: process.version, memoryLimitMb: cgroup ? limitMb : null, results }, null, 2));
console.error(`\nwrote ${out.pathname}`);
process.exitCode = results.every((r) => r.pass) ? 0 : 1;

/** Runs one benchmark in its own node process (with this one's flags); a crash counts as a miss. */
async function inChild(name: string): Promise<BenchResult> {
  const file = join(mkdtempSync(join(tmpdir(), 'taskbot-bench-')), 'result.json');
  const args = [...process.execArgv, fileURLToPath(import.meta.url), name, `--result=${file}`];
  // In the cgroup from its first instruction: the shell moves itself in, then becomes node.
  const child = cgroup
    ? spawn('/bin/sh', ['-c', 'echo $$ > "$0" && exec "$@"', cgroup.procs, process.execPath, ...args], { stdio: 'inherit' })
    : spawn(process.execPath, args, { stdio: 'inherit' });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) return { name, figures: { exit_code: code ?? -1 }, targets: { exit_code: '0' }, pass: false };
  return JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
}

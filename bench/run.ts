/**
 * `npm run bench [-- name …]`: runs the benchmarks, prints a table and writes bench/results.json.
 */
import { writeFileSync } from 'node:fs';
import { tuneRuntime } from '../src/runtime-flags.js';
import type { BenchResult } from './stats.js';

// Measured as `taskbot serve` runs: with its runtime flags, set before the code under test loads.
tuneRuntime();

// Each loads its code when it runs: a benchmark run alone carries no other's modules (peak RSS).
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
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = wanted.length > 0 ? wanted : Object.keys(BENCHES);
const unknown = names.filter((n) => !Object.hasOwn(BENCHES, n));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}

const results: BenchResult[] = [];
for (const n of names) {
  console.error(`running ${n}…`);
  const r = await BENCHES[n]!();
  results.push(r);
  console.log(`\n## ${r.name} — ${r.pass ? 'meets its targets' : 'MISSES a target'}`);
  console.log('| figure | value | target |\n| --- | --- | --- |');
  for (const [k, v] of Object.entries(r.figures)) console.log(`| ${k} | ${v} | ${r.targets[k] ?? ''} |`);
}
const out = new URL('./results.json', import.meta.url.replace('/dist/bench/', '/bench/'));
writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), node: process.version, results }, null, 2));
console.error(`\nwrote ${out.pathname}`);
process.exitCode = results.every((r) => r.pass) ? 0 : 1;

/**
 * `npm run bench [-- name …]`: runs the benchmarks, prints a table and writes bench/results.json.
 */
import { writeFileSync } from 'node:fs';
import { tuneRuntime } from '../src/runtime-flags.js';
import type { BenchResult } from './stats.js';

// Measured as `taskbot serve` runs: with its runtime flags, set before the code under test loads.
tuneRuntime();
const { benchWatch } = await import('./watch.js');
const { benchFreshness } = await import('./freshness.js');
const { benchGrowth } = await import('./growth.js');
const { benchBurst } = await import('./burst.js');
const { benchAck } = await import('./ack.js');
const { benchButton, benchCommand } = await import('./latency.js');
const { benchPaging, benchSend } = await import('./throughput.js');

const BENCHES: Record<string, () => Promise<BenchResult>> = {
  ack: () => benchAck(),
  command: () => benchCommand(),
  button: () => benchButton(),
  send: () => benchSend(),
  paging: () => benchPaging(),
  watch: () => benchWatch(),
  freshness: () => benchFreshness(),
  growth: () => benchGrowth(),
  burst: () => benchBurst(),
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

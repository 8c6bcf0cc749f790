/**
 * `npm run bench [-- name …]`: runs the benchmarks, prints a table and writes bench/results.json.
 */
import { writeFileSync } from 'node:fs';
import { benchWatch } from './watch.js';
import { benchFreshness } from './freshness.js';
import { benchGrowth } from './growth.js';
import { benchBurst } from './burst.js';
import { benchAck } from './ack.js';
import { benchButton, benchCommand } from './latency.js';
import { benchPaging, benchSend } from './throughput.js';
import type { BenchResult } from './stats.js';

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

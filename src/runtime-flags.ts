import { setFlagsFromString } from 'node:v8';

/**
 * V8 lets its old generation grow to up to 4× what was live after the last full collection; with
 * 10,000 cards watched that was ~75 MB of heap for ~28 MB live, the largest part of the process's
 * peak. At 1.3× (set before the modules load, when V8 sets its first limits) bench:watch peaks at
 * 186–191 MB instead of 219–256, with about the same time in GC and the same event-loop delay.
 * Unlike --optimize-for-size it leaves the compiler alone. An operator's own setting on node's
 * command line wins (NODE_OPTIONS cannot carry it).
 */
export const HEAP_GROWING_PERCENT = 30;

/** The V8 flags taskbot sets for itself, given how node was started. */
export function runtimeFlags(execArgv: readonly string[]): string[] {
  const given = execArgv.some((a) => /^--heap[-_]growing[-_]percent\b/.test(a));
  return given ? [] : [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`];
}

export function tuneRuntime(): void {
  for (const f of runtimeFlags(process.execArgv)) setFlagsFromString(f);
}

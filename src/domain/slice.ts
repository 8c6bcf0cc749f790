/**
 * Store calls on SQLite resolve without touching the event loop: a round over many tasks and
 * cards would otherwise hold it for as long as it runs. Every pass calls this between units of
 * work, and the SQLite store after every query (store/yield-plugin.ts); it lets timers and I/O (people's commands, button answers) in every few milliseconds,
 * counted across all passes at once.
 */
const SLICE_MS = 4;
let sliceStart = performance.now();

export async function yieldIfBusy(): Promise<void> {
  if (performance.now() - sliceStart < SLICE_MS) return;
  await new Promise<void>((r) => setImmediate(r));
  sliceStart = performance.now();
}

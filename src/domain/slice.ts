/**
 * Store calls on SQLite resolve without touching the event loop: a round over many tasks and
 * cards would otherwise hold it for as long as it runs. Every pass calls this between units of
 * work, and the SQLite store before every call (store/sqlite-yield.ts); it lets timers and I/O
 * (people's commands, button answers) in every few milliseconds, counted across all passes at once.
 */
const SLICE_MS = 4;
let sliceStart = performance.now();
/**
 * Callers waiting for their next slice, let go one per turn of the event loop: let go all at
 * once, each would run its next unit before the loop turned again (two dozen of them at once).
 */
const waiting: (() => void)[] = [];
let turnScheduled = false;

function nextTurn(): void {
  sliceStart = performance.now();
  waiting.shift()?.();
  turnScheduled = waiting.length > 0;
  if (turnScheduled) setImmediate(nextTurn);
}

export function yieldIfBusy(): Promise<void> {
  if (performance.now() - sliceStart < SLICE_MS) return Promise.resolve();
  return new Promise<void>((r) => {
    waiting.push(r);
    if (!turnScheduled) {
      turnScheduled = true;
      setImmediate(nextTurn);
    }
  });
}

import type { WatchEngine } from '../../src/watch/engine.js';

/** One poll round, then the card updates it queued (what the running engine's loop and queue do on their own). */
export async function round(e: WatchEngine): Promise<number> {
  const n = await e.tick();
  await e.flush();
  return n;
}

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';

describe('SQLite store calls let the event loop in', () => {
  it('many callers querying back to back do not keep a timer out until they are all done', async () => {
    const store = await openStore(`sqlite:${join(mkdtempSync(join(tmpdir(), 'taskbot-yield-')), 'y.db')}`);
    try {
      // SQLite answers synchronously and the connection is handed on by microtasks: without a
      // yield between queries, these chains would run to the end before any macrotask.
      let done = false;
      let turnsMeanwhile = 0;
      const tick = () => setImmediate(() => (done ? undefined : (turnsMeanwhile++, tick())));
      tick();
      const chain = async () => {
        for (let i = 0; i < 300; i++) await store.cards.countActive();
      };
      await Promise.all(Array.from({ length: 20 }, chain));
      done = true;
      expect(turnsMeanwhile).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  });
});

import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { startWalCheckpointer } from '../../src/store/wal-checkpointer.js';

const dbFile = () => join(mkdtempSync(join(tmpdir(), 'taskbot-wal-')), 'w.db');

/** Resolves once `check` holds; fails the test after `ms`. */
async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('SQLite checkpoints on a thread of their own', () => {
  it('copies the WAL into the database file without the main connection checkpointing', async () => {
    const path = dbFile();
    const store = await openStore(`sqlite:${path}`);
    try {
      await sql`create table filler (b blob)`.execute(store.db);
      const before = statSync(path).size;
      // About 200 pages: far below the 1000 at which SQLite would checkpoint on the main connection.
      for (let i = 0; i < 200; i++) await sql`insert into filler values (randomblob(4000))`.execute(store.db);
      await until(() => statSync(path).size >= before + 200 * 4000);
      const [{ wal_autocheckpoint }] = (await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(store.db)).rows as [
        { wal_autocheckpoint: number },
      ];
      expect(wal_autocheckpoint).toBe(0);
    } finally {
      await store.close();
    }
    // The thread stopped first, so the main connection closed last: it checkpointed and removed the WAL.
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('hands checkpoints back to the main connection when its thread fails, and says so', async () => {
    const path = dbFile();
    const main = new BetterSqlite3(path);
    main.pragma('journal_mode = WAL');
    const notADatabase = join(mkdtempSync(join(tmpdir(), 'taskbot-wal-')), 'junk.db');
    writeFileSync(notADatabase, 'not a database, whatever its name says'.repeat(200));
    const failed: Error[] = [];
    // It opens (SQLite reads nothing yet), takes the work over, and fails at its first checkpoint.
    const checkpointer = startWalCheckpointer(main, notADatabase, (e) => failed.push(e), 300);
    try {
      await until(() => main.pragma('wal_autocheckpoint', { simple: true }) === 0);
      await until(() => failed.length > 0);
      expect(failed[0]!.message).toMatch(/not a database/);
      expect(main.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    } finally {
      await checkpointer.stop();
      main.close();
    }
  });

  it('gives the main connection its checkpoints back when it stops', async () => {
    const path = dbFile();
    const main = new BetterSqlite3(path);
    main.pragma('journal_mode = WAL');
    const failed: Error[] = [];
    const checkpointer = startWalCheckpointer(main, path, (e) => failed.push(e), 50);
    await until(() => main.pragma('wal_autocheckpoint', { simple: true }) === 0);
    await checkpointer.stop();
    expect(main.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    // A stop is not a failure.
    expect(failed).toEqual([]);
    main.close();
  });
});

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { QuietCheckpoint, type QuietCheckpointOptions } from '../../src/store/quiet-checkpoint.js';
import { until } from '../helpers/bot.js';
import { smallDisk } from '../helpers/small-disk.js';

const dbFile = () => join(mkdtempSync(join(tmpdir(), 'taskbot-ckpt-')), 'c.db');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A WAL-mode database with a table of page-sized rows: the main file grows only when a checkpoint copies them in. */
function walDatabase(path: string): BetterSqlite3.Database {
  const db = new BetterSqlite3(path);
  db.pragma('journal_mode = WAL');
  db.exec('create table filler (b blob)');
  db.pragma('wal_checkpoint(TRUNCATE)');
  return db;
}
const fill = (db: BetterSqlite3.Database, rows: number) => {
  for (let i = 0; i < rows; i++) db.prepare('insert into filler values (randomblob(4000))').run();
};

interface Rig {
  db: BetterSqlite3.Database;
  checkpoint: QuietCheckpoint;
  /** The main file is as it was: nothing was checkpointed. */
  unchanged(): void;
  /** Resolves once `rows` page-sized rows have reached the main file. */
  copied(rows: number): Promise<void>;
}

/** A checkpoint over a fresh WAL database; no failure may be told. */
async function withCheckpoint(o: QuietCheckpointOptions, body: (rig: Rig) => Promise<void>): Promise<void> {
  const path = dbFile();
  const db = walDatabase(path);
  const failed: Error[] = [];
  const checkpoint = new QuietCheckpoint(db, (e) => failed.push(e), o);
  const before = statSync(path).size;
  try {
    await body({
      db,
      checkpoint,
      unchanged: () => expect(statSync(path).size).toBe(before),
      copied: async (rows) => void (await until('the rows copied in', () => statSync(path).size >= before + rows * 4000, 5000)),
    });
    expect(failed).toEqual([]);
  } finally {
    checkpoint.stop();
    db.close();
    rmSync(dirname(path), { recursive: true, force: true });
  }
}

describe('SQLite checkpoints in a quiet moment', () => {
  it("copies the store's WAL into the database file once the store is quiet, long before SQLite's own 1,000 pages", async () => {
    const path = dbFile();
    const failed: Error[] = [];
    const store = await openStore(`sqlite:${path}`, { onCheckpointFailed: (e) => failed.push(e) });
    try {
      await sql`create table filler (b blob)`.execute(store.db);
      await sleep(50);
      const before = statSync(path).size;
      // About 100 pages, a tenth of SQLite's own threshold.
      for (let i = 0; i < 100; i++) await sql`insert into filler values (randomblob(4000))`.execute(store.db);
      await until('the rows copied in', () => statSync(path).size >= before + 100 * 4000, 5000);
      expect(failed).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('waits while store calls keep coming, and checkpoints when they stop', () =>
    withCheckpoint({ quietMs: 200, minChanges: 1 }, async ({ db, checkpoint, unchanged, copied }) => {
      fill(db, 50);
      // A call every 5 ms for half a second: never 200 ms of quiet.
      for (let end = Date.now() + 500; Date.now() < end; ) {
        checkpoint.touched();
        await sleep(5);
      }
      unchanged();
      await copied(50);
    }));

  it('leaves a WAL of few changes alone', () =>
    withCheckpoint({ quietMs: 10, minChanges: 64 }, async ({ db, checkpoint, unchanged, copied }) => {
      fill(db, 63);
      checkpoint.touched();
      await sleep(100);
      unchanged();
      fill(db, 1);
      checkpoint.touched();
      await copied(64);
    }));

  it('not inside a transaction that is waiting on something else: it tries again once that ends', () =>
    withCheckpoint({ quietMs: 10, minChanges: 1 }, async ({ db, checkpoint, unchanged, copied }) => {
      fill(db, 10);
      db.exec('begin immediate');
      checkpoint.touched();
      await sleep(100);
      unchanged();
      db.exec('commit');
      await copied(10);
    }));

  it('says when it cannot look (the connection is closed)', async () => {
    const db = walDatabase(dbFile());
    const failed: Error[] = [];
    const checkpoint = new QuietCheckpoint(db, (e) => failed.push(e), { quietMs: 10, minChanges: 1 });
    fill(db, 1);
    db.close();
    checkpoint.touched();
    await until('the failure told', () => failed.length > 0, 5000);
    expect(failed[0]!.message).toMatch(/not open/);
  });

  it('a failed checkpoint is told once, and tried again only after as many changes (the disk is full)', async (ctx) => {
    const disk = smallDisk();
    if (!disk) return ctx.skip();
    const path = join(disk.dir, 'c.db');
    const failed: Error[] = [];
    let db: BetterSqlite3.Database | undefined;
    let checkpoint: QuietCheckpoint | undefined;
    try {
      db = walDatabase(path);
      checkpoint = new QuietCheckpoint(db, (e) => failed.push(e), { quietMs: 10, minChanges: 64 });
      const before = statSync(path).size;
      fill(db, 100);
      disk.fill();
      checkpoint.touched();
      await until('the failure told', () => failed.length > 0, 5000);
      // More quiet moments, no more changes: not tried again.
      for (let i = 0; i < 4; i++) {
        checkpoint.touched();
        await sleep(30);
      }
      expect(failed.map((e) => (e as { code?: string }).code)).toEqual(['SQLITE_FULL']);
      disk.free();
      checkpoint.touched();
      await sleep(50);
      expect(statSync(path).size).toBe(before);
      fill(db, 64);
      checkpoint.touched();
      await until('the rows copied in', () => statSync(path).size >= before + 164 * 4000, 5000);
      expect(failed).toHaveLength(1);
    } finally {
      checkpoint?.stop();
      db?.close();
      disk.unmount();
    }
  });

  it('once stopped, a store call arms nothing', async () => {
    const db = walDatabase(dbFile());
    const failed: Error[] = [];
    const checkpoint = new QuietCheckpoint(db, (e) => failed.push(e), { quietMs: 10, minChanges: 0 });
    checkpoint.stop();
    db.close();
    checkpoint.touched();
    await sleep(50);
    expect(failed).toEqual([]);
  });

  it('is stopped when the store closes: no checkpoint on a closed connection', async () => {
    const failed: Error[] = [];
    const store = await openStore(`sqlite:${dbFile()}`, { onCheckpointFailed: (e) => failed.push(e) });
    await sql`create table filler (b blob)`.execute(store.db);
    for (let i = 0; i < 70; i++) await sql`insert into filler values (1)`.execute(store.db);
    await store.close();
    await sleep(100);
    expect(failed).toEqual([]);
  });
});

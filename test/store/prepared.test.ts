import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { PreparedQueries } from '../../src/store/prepared.js';
import type { Store } from '../../src/store/store.js';
import { freshStore, STORE_KINDS } from '../helpers/stores.js';

describe.each(STORE_KINDS)('prepared queries (%s)', (kind) => {
  let store: Store;
  afterEach(async () => store?.close());

  it("builds a shape once and runs it with each call's values, also inside a transaction", async () => {
    ({ store } = await freshStore(kind));
    const db = store.db;
    await db
      .insertInto('dedupe')
      .values([
        { key: 'a', expires_at: 1 },
        { key: 'b', expires_at: 2 },
      ])
      .execute();
    const q = new PreparedQueries();
    let builds = 0;
    const expiresOf = (on: typeof db, key: string) =>
      q.run(on, 'expiresOf', [key], (key) => (builds++, db.selectFrom('dedupe').select('expires_at').where('key', '=', key)));
    expect((await expiresOf(db, 'a')).rows).toEqual([{ expires_at: 1 }]);
    expect((await expiresOf(db, 'b')).rows).toEqual([{ expires_at: 2 }]);
    const inTx = await db.transaction().execute(async (tx) => {
      await tx.updateTable('dedupe').set({ expires_at: 9 }).where('key', '=', 'a').execute();
      return (await expiresOf(tx, 'a')).rows;
    });
    expect(inTx).toEqual([{ expires_at: 9 }]);
    expect(builds).toBe(1);
    // A value used twice, and a write: both places get it.
    const r = await q.run(db, 'bump', ['b', 5], (key, at) =>
      db.updateTable('dedupe').set({ expires_at: at }).where('key', '=', key).where('expires_at', '<', at),
    );
    expect(Number(r.numAffectedRows)).toBe(1);
    expect((await expiresOf(db, 'b')).rows).toEqual([{ expires_at: 5 }]);
  });

  it('refuses a query whose value was written into its SQL text instead of a parameter (it would be frozen)', async () => {
    ({ store } = await freshStore(kind));
    const db = store.db;
    const q = new PreparedQueries();
    await expect(q.run(db, 'literal', ['a'], (key) => db.selectFrom('dedupe').select('key').where('key', '=', sql.lit(key)))).rejects.toThrow(
      /value 0 is not a parameter/,
    );
    await expect(q.run(db, 'unused', ['a'], (_key) => db.selectFrom('dedupe').select('key'))).rejects.toThrow(/value 0 is not a parameter/);
  });

  it('inserts a row of any columns: a conflict does nothing or takes the named columns, each shape its own plan', async () => {
    ({ store } = await freshStore(kind));
    const db = store.db;
    const q = new PreparedQueries();
    const row = (key: string, expires_at: number, payload?: string) => ({ key, expires_at, payload });
    const first = await q.insert(db, 'dedupe', row('a', 1, 'p1'), { key: 'key' });
    expect(Number(first.numAffectedRows)).toBe(1);
    const clash = await q.insert(db, 'dedupe', row('a', 2, 'p2'), { key: 'key' });
    expect(Number(clash.numAffectedRows)).toBe(0);
    // Left out (undefined) is another shape, not a null written over the payload.
    await q.insert(db, 'dedupe', row('a', 3), { key: 'key', update: ['expires_at'] });
    await q.insert(db, 'dedupe', row('b', 4), { key: 'key' });
    const rows = await db.selectFrom('dedupe').select(['key', 'expires_at', 'payload']).orderBy('key').execute();
    expect(rows).toEqual([
      { key: 'a', expires_at: 3, payload: 'p1' },
      { key: 'b', expires_at: 4, payload: null },
    ]);
    await q.insert(db, 'dedupe', row('b', 5, 'p5'), { key: 'key', update: ['expires_at', 'payload'] });
    expect(await db.selectFrom('dedupe').select(['expires_at', 'payload']).where('key', '=', 'b').executeTakeFirst()).toEqual({ expires_at: 5, payload: 'p5' });
  });
});

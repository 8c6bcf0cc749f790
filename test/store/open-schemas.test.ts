import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { dropFreshStore, freshStoreUrl } from '../helpers/stores.js';

/**
 * A PostgreSQL database shared with others (other taskbots in their own schemas, other apps, and
 * every test here): their schemas come and go while a taskbot starts. Its migration must look only
 * at its own schema (Kysely's introspector read every schema by name, and one dropped under it
 * failed the start with 3F000 naming a schema that was not ours).
 */
describe.runIf(process.env.TEST_DATABASE_URL)('opening a PostgreSQL store while other schemas are dropped', () => {
  it('starts, every time, whatever happens to the schemas next to its own', async () => {
    const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    let churning = true;
    // Someone else's schemas, each with a table (so a drop takes a moment), made and dropped without pause.
    const churn = (async () => {
      for (let n = 0; churning; n++) {
        const other = `t_${Date.now().toString(36)}_${process.env.TEST_SCHEMA_RUN ?? 'x'}_churn${n}`;
        await admin.query(`CREATE SCHEMA ${other}; CREATE TABLE ${other}.t (id int)`);
        await admin.query(`DROP SCHEMA ${other} CASCADE`);
      }
    })();
    const failures: string[] = [];
    try {
      for (let i = 0; i < 25; i++) {
        const url = await freshStoreUrl('postgres');
        try {
          await (await openStore(url)).close();
        } catch (e) {
          failures.push(String(e));
        } finally {
          await dropFreshStore(url);
        }
      }
    } finally {
      churning = false;
      await churn;
      await admin.end();
    }
    expect(failures).toEqual([]);
  }, 60_000);
});

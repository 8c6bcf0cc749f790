import { sql } from 'kysely';
import type { Store } from './store.js';

const MINUTE = 60_000;

/**
 * The stored times that are deadlines, leases and ages (measured against now), with how far
 * ahead of now each can rightly be. Digest schedules are not here: they are times of day. Nor is
 * when one was planned (planned_at): left behind by a step back, it tells the scheduler to plan again.
 */
const STORED_TIMES: readonly { table: string; column: string; aheadMs: number }[] = [
  { table: 'tasks', column: 'next_due_at', aheadMs: 15 * MINUTE },
  { table: 'tasks', column: 'lease_until', aheadMs: MINUTE },
  { table: 'tasks', column: 'interest_until', aheadMs: 5 * MINUTE },
  { table: 'tasks', column: 'created_at', aheadMs: MINUTE },
  { table: 'tasks', column: 'last_changed_at', aheadMs: MINUTE },
  { table: 'cards', column: 'retry_at', aheadMs: 15 * MINUTE },
  { table: 'cards', column: 'last_update_at', aheadMs: MINUTE },
  { table: 'cards', column: 'created_at', aheadMs: MINUTE },
  { table: 'digests', column: 'lease_until', aheadMs: 10 * MINUTE },
  { table: 'dedupe', column: 'lease_until', aheadMs: MINUTE },
  { table: 'dedupe', column: 'expires_at', aheadMs: 3 * 24 * 60 * MINUTE + MINUTE },
  { table: 'api_requests', column: 'lease_until', aheadMs: MINUTE },
  { table: 'api_requests', column: 'expires_at', aheadMs: 24 * 60 * MINUTE + MINUTE },
  { table: 'replicas', column: 'seen_at', aheadMs: MINUTE },
];

/** The clock stepped by `stepMs`: every stored deadline and age moves with it (one transaction), so each measures what it did. */
export async function shiftStoredTimes(store: Store, stepMs: number): Promise<void> {
  const step = Math.round(stepMs);
  await store.db.transaction().execute(async (tx) => {
    for (const { table, column } of STORED_TIMES) {
      await sql`update ${sql.table(table)} set ${sql.ref(column)} = ${sql.ref(column)} + ${step} where ${sql.ref(column)} is not null`.execute(tx);
    }
  });
}

/**
 * Times further ahead of `now` than they can rightly be were written by a clock that was ahead
 * (it stepped back while taskbot was down): brought back to now, so nothing waits out the step.
 */
export async function clampStoredTimes(store: Store, now: number): Promise<number> {
  let n = 0;
  await store.db.transaction().execute(async (tx) => {
    for (const { table, column, aheadMs } of STORED_TIMES) {
      const r = await sql`update ${sql.table(table)} set ${sql.ref(column)} = ${now} where ${sql.ref(column)} > ${now + aheadMs}`.execute(tx);
      n += Number(r.numAffectedRows ?? 0);
    }
  });
  return n;
}

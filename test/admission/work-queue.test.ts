import { describe, expect, it } from 'vitest';
import { PER_CHAT_CONCURRENCY, WorkQueue } from '../../src/admission/work-queue.js';

/** A job that runs until released. */
function blocker() {
  let release!: () => void;
  let started = false;
  const done = new Promise<void>((r) => (release = r));
  return { job: async () => ((started = true), await done), release: () => release(), started: () => started };
}

describe('the work queue shares its slots between chats', () => {
  it("one chat's flood (a hanging upstream holds its jobs) never takes every slot: another chat's job starts at once", async () => {
    const q = new WorkQueue(16, 1000, () => undefined);
    const flood = Array.from({ length: 18 }, () => blocker());
    for (const b of flood) expect(q.push(b.job, 'feishu:oc_flood')).toBe(true);
    const calm = blocker();
    q.push(calm.job, 'feishu:oc_calm');
    await new Promise((r) => setImmediate(r));
    expect(flood.filter((b) => b.started())).toHaveLength(PER_CHAT_CONCURRENCY);
    expect(calm.started()).toBe(true);
    expect(q.size).toBe(19);
    // As the flood's jobs finish, its waiting ones take their turn, in order; drain waits for all.
    const drained = q.drain();
    for (const b of flood) {
      b.release();
      await new Promise((r) => setImmediate(r));
    }
    calm.release();
    await drained;
    expect(flood.every((b) => b.started())).toBe(true);
    expect(q.size).toBe(0);
  });

  it('counts the jobs a chat keeps waiting against the bound, and drops them with clear()', async () => {
    const q = new WorkQueue(2, 5, () => undefined);
    const jobs = Array.from({ length: 12 }, () => blocker());
    const taken = jobs.map((b) => q.push(b.job, 'c'));
    // 2 run (the queue's slots), and 5 wait, in the queue or behind the chat's share: the bound is reached.
    expect(taken.filter(Boolean)).toHaveLength(2 + 5);
    expect(q.room).toBe(0);
    q.clear();
    expect(q.room).toBe(5);
    for (const b of jobs) b.release();
  });
});

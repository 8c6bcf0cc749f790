import { describe, expect, it } from 'vitest';
import { PollBudget } from '../../src/watch/poll-budget.js';

describe('poll budget', () => {
  it('lets at most its share through in any second, per API, and serves those it turned away first', () => {
    const b = new PollBudget({ 'feishu:drive': 2 });
    expect(b.take('feishu', 'feishu:drive', 'a', 1000)).toEqual({ ok: true });
    expect(b.take('feishu', 'feishu:drive', 'b', 1400)).toEqual({ ok: true });
    expect(b.take('feishu', 'feishu:drive', 'c', 1500)).toEqual({ ok: false, waitMs: 500 });
    expect(b.take('feishu', 'feishu:drive', 'd', 1600)).toEqual({ ok: false, waitMs: 800 });
    expect(b.take('feishu', 'feishu:contact', 'x', 1600)).toEqual({ ok: true }); // another API, not limited here
    // At 2000 one slot is free: it is c's, not the newcomer a's.
    expect(b.take('feishu', 'feishu:drive', 'a', 2000)).toMatchObject({ ok: false });
    expect(b.take('feishu', 'feishu:drive', 'c', 2000)).toEqual({ ok: true });
    expect(b.take('feishu', 'feishu:drive', 'd', 2400)).toEqual({ ok: true });
  });
  it('a task back a few seconds after its turn (a slow round) still goes before newcomers', () => {
    const b = new PollBudget({ 'feishu:drive': 1 });
    expect(b.take('feishu', 'feishu:drive', 'a', 0)).toEqual({ ok: true });
    expect(b.take('feishu', 'feishu:drive', 'late', 100)).toEqual({ ok: false, waitMs: 900 });
    // Its turn was at 1000; it comes back at 4000, when a newcomer asks first: the slot is its own.
    expect(b.take('feishu', 'feishu:drive', 'new', 4000)).toMatchObject({ ok: false });
    expect(b.take('feishu', 'feishu:drive', 'late', 4000)).toEqual({ ok: true });
  });

  it("a person's read that reached upstream is charged to the budget: the polls of that second make room for it", () => {
    const b = new PollBudget({ 'feishu:drive': 2 });
    b.charge('feishu', 'feishu:drive', 1000);
    expect(b.take('feishu', 'feishu:drive', 'a', 1100)).toEqual({ ok: true });
    expect(b.take('feishu', 'feishu:drive', 'b', 1200)).toMatchObject({ ok: false });
    b.charge('feishu', 'feishu:contact', 1200); // an API without a budget: nothing to charge
    expect(b.take('feishu', 'feishu:contact', 'x', 1200)).toEqual({ ok: true });
    expect(b.take('feishu', 'feishu:drive', 'b', 2000)).toEqual({ ok: true }); // the charge aged out
  });

  it("each app has its own budget: one app's polls and charges never take another's", () => {
    const b = new PollBudget({ 'feishu:drive': 1 });
    expect(b.take('feishu', 'feishu:drive', 'a', 1000)).toEqual({ ok: true });
    expect(b.take('feishu', 'feishu:drive', 'b', 1000)).toMatchObject({ ok: false });
    // The same task key in another app is another task, with its own second.
    expect(b.take('lark', 'feishu:drive', 'a', 1000)).toEqual({ ok: true });
    b.charge('lark', 'feishu:drive', 1500);
    expect(b.take('feishu', 'feishu:drive', 'b', 2000)).toEqual({ ok: true });
  });

  it('a line longer than half a minute still serves everyone once, in order (a task keeps its turn until it comes back)', () => {
    const budget = new PollBudget({ 'feishu:contact': 2 });
    // 150 tasks due at once, 2 polls a second: the last one's turn is more than a minute away.
    const due = new Map<string, number>(Array.from({ length: 150 }, (_, i) => [`t${i}`, 0]));
    const polled: string[] = [];
    for (let now = 0; now <= 90_000 && due.size > 0; now += 100) {
      for (const [key, at] of [...due]) {
        if (at > now) continue;
        const r = budget.take('feishu', 'feishu:contact', key, now);
        if (r.ok) {
          polled.push(key);
          due.delete(key);
        } else due.set(key, now + r.waitMs);
      }
    }
    expect(polled).toHaveLength(150);
    expect(polled).toEqual(Array.from({ length: 150 }, (_, i) => `t${i}`));
  });

  it('replicas split the budget: each polls at its share of it, and more as the others go', () => {
    let share = 1 / 3;
    const budget = new PollBudget({ 'feishu:contact': 12 }, () => share);
    const waiting = new Set(Array.from({ length: 20 }, (_, i) => `t${i}`));
    const round = (now: number) => [...waiting].filter((k) => budget.take('feishu', 'feishu:contact', k, now).ok && waiting.delete(k)).length;
    expect(round(0)).toBe(4);
    share = 1;
    expect(round(1000)).toBe(12);
  });

  it('replicas sharing the tasks keep polling at the whole budget: none holds slots for tasks that come back to another, and one with no poll left claims none', () => {
    // Three replicas, a third of 12 a second each, looking for due tasks in turn (each every 75 ms)
    // and claiming what they find, as a round does, unless their budget is spent (full); 60 tasks
    // wanting a poll every 2 s.
    const replicas = [0, 1, 2].map(() => new PollBudget({ 'feishu:contact': 12 }, () => 1 / 3));
    const due = new Map<string, number>(Array.from({ length: 60 }, (_, i) => [`t${i}`, 0]));
    let polls = 0;
    for (let now = 0, tick = 0; now < 60_000; now += 25, tick++) {
      const replica = replicas[tick % 3]!;
      if (replica.full(now).length > 0) continue;
      for (const [key, at] of [...due]) {
        if (at > now) continue;
        const r = replica.take('feishu', 'feishu:contact', key, now);
        if (r.ok) polls++;
        due.set(key, now + (r.ok ? 2000 : r.waitMs));
      }
    }
    // The app's budget is 12 a second; the replicas together poll at nearly all of it (each loses a
    // little to looking only every 75 ms). With a line of its own, each held slots for tasks that
    // came back to another replica: about four polls a second in all.
    expect(polls / 60).toBeGreaterThan(11);
  });

  it('with replicas, says which APIs have no poll left here this second; alone, none (its line orders them)', () => {
    const b = new PollBudget({ 'feishu:contact': 4, 'feishu:drive': 2 }, () => 0.5);
    b.take('feishu', 'feishu:contact', 'a', 0);
    b.take('lark', 'feishu:drive', 'b', 100);
    expect(b.full(100)).toEqual([{ app: 'lark', platform: 'feishu', kind: 'drive' }]);
    b.take('feishu', 'feishu:contact', 'c', 200);
    expect(b.full(200)).toEqual([
      { app: 'feishu', platform: 'feishu', kind: 'contact' },
      { app: 'lark', platform: 'feishu', kind: 'drive' },
    ]);
    // A second after the first poll, the contact API has room again; the drive one a little later.
    expect(b.full(1050)).toEqual([{ app: 'lark', platform: 'feishu', kind: 'drive' }]);
    expect(b.full(1100)).toEqual([]);
    const alone = new PollBudget({ 'feishu:drive': 1 });
    alone.take('feishu', 'feishu:drive', 'a', 0);
    expect(alone.full(0)).toEqual([]);
  });

  it('under a constant load beyond the budget, no task is turned away forever (its turn holds past half a minute)', () => {
    const budget = new PollBudget({ 'feishu:contact': 2 });
    // 150 live tasks, each wanting a poll 2 s after its last: far more than 2 a second.
    const due = new Map<string, number>(Array.from({ length: 150 }, (_, i) => [`t${i}`, 0]));
    const last = new Map<string, number>();
    let worstWait = 0;
    for (let now = 0; now <= 300_000; now += 100) {
      for (const [key, at] of [...due]) {
        if (at > now) continue;
        const r = budget.take('feishu', 'feishu:contact', key, now);
        if (r.ok) {
          worstWait = Math.max(worstWait, now - (last.get(key) ?? 0));
          last.set(key, now);
          due.set(key, now + 2000);
        } else due.set(key, now + r.waitMs);
      }
    }
    expect(last.size).toBe(150);
    // 150 tasks at 2 a second: each is polled about every 75 s, never starved.
    expect(worstWait).toBeLessThan(90_000);
  });
});

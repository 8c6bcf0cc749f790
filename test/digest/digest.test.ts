import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { DigestScheduler } from '../../src/digest/scheduler.js';
import { parseSchedule, nextFire } from '../../src/digest/schedule.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { cardRow, taskRow } from '../helpers/rows.js';
import { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import { FeishuApi } from '../../src/platforms/feishu/api-client.js';
import { reportSubmissions } from '../../src/providers/feishu-report.js';
import { RecordingMessenger } from '../helpers/recording-messenger.js';
import { freshStore, STORE_KINDS } from '../helpers/stores.js';

const chat = { app: 'feishu', platform: 'feishu' as const, chatId: 'oc_digest' };
const iso = (t: number) => new Date(t).toISOString();

describe('digest schedules', () => {
  it('parses daily, weekdays and cron forms with an optional zone', () => {
    expect(parseSchedule(['daily', '9:05'], 'Asia/Shanghai')).toEqual({ ok: true, cron: '5 9 * * *', spec: 'daily 09:05', timeZone: 'Asia/Shanghai' });
    expect(parseSchedule(['weekdays', '18:30', 'America/New_York'], 'Asia/Shanghai')).toEqual({
      ok: true,
      cron: '30 18 * * 1-5',
      spec: 'weekdays 18:30',
      timeZone: 'America/New_York',
    });
    expect(parseSchedule(['工作日', '08:00'], 'Asia/Shanghai')).toMatchObject({ ok: true, cron: '0 8 * * 1-5' });
    expect(parseSchedule(['cron', '0 9 * * 1'], 'UTC')).toMatchObject({ ok: true, cron: '0 9 * * 1' });
  });

  it.each([
    [['daily', '25:00'], 'time'],
    [['daily', '9am'], 'time'],
    [['daily', '09:00', 'Mars/Base'], 'zone'],
    [['cron', '61 * * * *'], 'cron'],
    [['cron', '* * * * *'], 'cron'],
    [['cron', '0 0 9 * * *'], 'cron'],
    [['hourly', '10'], 'usage'],
    [['daily'], 'usage'],
  ])('rejects %j (%s)', (args, error) => {
    expect(parseSchedule(args, 'Asia/Shanghai')).toMatchObject({ ok: false, error });
  });

  describe('at most one digest every 5 minutes, over every day of the schedule', () => {
    // Fri 20 Nov 2026, 20:00 in Shanghai: the old check looked at the next three runs from here.
    beforeEach(() => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.UTC(2026, 10, 20, 12, 0));
    });
    afterEach(() => void vi.useRealTimers());

    it.each([
      // The next three runs are 10 minutes apart; from 23:20 it fires every minute.
      ['0,10,20-59 23 * * *', 'at 23:20 and again at 23:21'],
      // Tomorrow 08:00, 08:30, 08:58, then 09:00: two minutes apart across an hour.
      ['0,30,58 8,9 * * *', 'at 08:58 and again at 09:00'],
      // 23:58 tonight, 00:01 tomorrow: across midnight.
      ['1,30,58 0,23 * * *', 'at 23:58 on 2026-11-20 and again at 00:01 on 2026-11-21'],
      // Sunday's last and Monday's first: across the weekend's end, a week away.
      ['1,30,58 0,23 * * 0,1', 'at 23:58 on 2026-11-22 and again at 00:01 on 2026-11-23'],
      // On the 1st and 31st: only where a month of 31 days ends (not November's 30th).
      ['1,58 0,23 1,31 * *', 'at 23:58 on 2026-12-31 and again at 00:01 on 2027-01-01'],
      // A day that comes once in four years.
      ['0,20,40,41 12 29 2 *', 'at 12:40 and again at 12:41'],
    ])('refuses %j, saying why (%s)', (expr, why) => {
      const r = parseSchedule(['cron', expr], 'Asia/Shanghai');
      expect(r).toMatchObject({ ok: false, error: 'cron', input: expr });
      expect(r.ok ? '' : r.reason).toBe(`at most one digest every 5 minutes, but it would fire ${why}`);
    });

    it.each([
      ['*/5 * * * *'], // exactly at the floor
      ['0,5,10,15,20,25,30,35,40,45,50,55 * * * *'],
      ['0,55 0,23 * * *'], // 23:55 to 00:00: five minutes
      ['0 9 * * 1-5'],
      ['0 0 29 2 *'],
      ['0 */2 * * *'],
      ['1,58 0,23 * * 1'], // Mondays only: Monday's 23:58 is not followed by 00:01
      ['1,58 0,23 1 * *'], // the 1st only, likewise
      ['0,57 1 * * *'], // 57 minutes apart (a DST night brings them closer: the scheduler skips that one)
    ])('accepts %j', (expr) => {
      expect(parseSchedule(['cron', expr], 'America/New_York')).toMatchObject({ ok: true, cron: expr });
    });

    it.each([[['daily', '23:59']], [['weekdays', '00:00']], [['daily', '00:01', 'Pacific/Chatham']]])('accepts %j', (args) => {
      expect(parseSchedule(args, 'Asia/Shanghai')).toMatchObject({ ok: true });
    });
  });

  // A chat command waits for this. The best of a few: a GC pause or a busy machine is not the check's cost.
  it.each(['* * * * *', '*/5 * * * *', '0 0 29 2 *', '0 0 30 2 *', '1,58 0,23 * * 1', '1,58 0,23 2-30/2 * *', '0,10,20-59 23 * * *'])(
    'answers %j within 50 ms',
    (expr) => {
      const took = Array.from({ length: 5 }, () => {
        const t = performance.now();
        parseSchedule(['cron', expr], 'Asia/Shanghai');
        return performance.now() - t;
      });
      expect(Math.min(...took)).toBeLessThan(50);
    },
  );

  it('computes firing times in Asia/Shanghai and America/New_York, across a DST change', () => {
    const from = Date.UTC(2026, 2, 6, 12, 0); // Fri 6 Mar 2026 12:00 UTC
    expect(iso(nextFire('0 9 * * *', 'Asia/Shanghai', from))).toBe('2026-03-07T01:00:00.000Z');
    expect(iso(nextFire('30 18 * * 1-5', 'Asia/Shanghai', from))).toBe('2026-03-09T10:30:00.000Z'); // skips the weekend
    expect(iso(nextFire('0 9 * * *', 'America/New_York', from))).toBe('2026-03-06T14:00:00.000Z'); // EST
    expect(iso(nextFire('0 9 * * *', 'America/New_York', Date.UTC(2026, 2, 8, 15)))).toBe('2026-03-09T13:00:00.000Z'); // EDT
  });
});

describe.each(STORE_KINDS)('digest scheduler (%s)', (kind) => {
  let store: Store;
  let url: string;
  let clock: ManualClock;
  let messenger: RecordingMessenger;
  const stores: Store[] = [];

  const scheduler = (s = store, extra = {}) => new DigestScheduler({ store: s, messengers: { feishu: messenger }, clock, ...extra });
  const daily9 = { cron: '0 9 * * *', spec: 'daily 09:00', timeZone: 'Asia/Shanghai' };

  beforeEach(async () => {
    ({ store, url } = await freshStore(kind));
    stores.push(store);
    clock = new ManualClock(Date.UTC(2026, 10, 20, 12, 0)); // 20:00 in Shanghai
    messenger = new RecordingMessenger('feishu', () => clock.now());
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close().catch(() => undefined);
  });

  it('fires at 09:00 Shanghai time, once, and schedules the next day', async () => {
    const d = scheduler();
    const next = await d.set(chat, daily9, 'zh');
    expect(iso(next)).toBe('2026-11-21T01:00:00.000Z');
    await clock.advance(next - clock.now() - 1);
    expect(await d.tick()).toBe(0);
    await clock.advance(1);
    expect(await d.tick()).toBe(1);
    expect(await d.tick()).toBe(0);
    expect(messenger.digests).toHaveLength(1);
    expect(messenger.digests[0]!.card).toMatchObject({ type: 'digest', title: '任务摘要' });
    expect(await store.digests.get('feishu:oc_digest')).toMatchObject({ last_fired_at: next, next_fire_at: next + 86_400_000 });
  });

  it('never fires twice across a restart', async () => {
    const first = scheduler();
    const next = await first.set(chat, daily9, 'zh');
    await clock.advance(next - clock.now() + 500);
    expect(await first.tick()).toBe(1);
    await store.close();
    store = await openStore(url);
    stores.push(store);
    const second = scheduler(store);
    expect(await second.tick()).toBe(0);
    expect(messenger.digests).toHaveLength(1);
  });

  it('is recorded as sent only once it was sent: a failed send is retried, also after a restart', async () => {
    const first = scheduler();
    const next = await first.set(chat, daily9, 'zh');
    messenger.failNextDigests = 2;
    await clock.advance(next - clock.now());
    expect(await first.tick()).toBe(0);
    expect(await store.digests.get('feishu:oc_digest')).toMatchObject({ last_fired_at: null, next_fire_at: next, failed_attempts: 1 });
    // The process restarts; the firing is still due and is tried again after its backoff.
    await store.close();
    store = await openStore(url);
    stores.push(store);
    const second = scheduler(store);
    expect(await second.tick()).toBe(0); // not before the backoff
    await clock.advance(60_000);
    expect(await second.tick()).toBe(0); // the second failure
    expect((await store.digests.get('feishu:oc_digest'))!.failed_attempts).toBe(2);
    await clock.advance(2 * 60_000);
    expect(await second.tick()).toBe(1);
    expect(messenger.digests).toHaveLength(1);
    expect(await store.digests.get('feishu:oc_digest')).toMatchObject({ last_fired_at: next, next_fire_at: next + 86_400_000, failed_attempts: 0 });
  });

  it('gives a firing up after five failed sends and fires the next day as usual', async () => {
    const d = scheduler();
    const next = await d.set(chat, daily9, 'zh');
    messenger.failNextDigests = 5;
    await clock.advance(next - clock.now());
    for (let i = 0; i < 5; i++) {
      expect(await d.tick()).toBe(0);
      await clock.advance(9 * 60_000);
    }
    expect(await store.digests.get('feishu:oc_digest')).toMatchObject({ last_fired_at: null, next_fire_at: next + 86_400_000, failed_attempts: 0 });
    await clock.advance(next + 86_400_000 - clock.now());
    expect(await d.tick()).toBe(1);
  });

  it('a digest missed by less than an hour fires once on start; an older one is skipped', async () => {
    const d = scheduler();
    const next = await d.set(chat, daily9, 'zh');
    // Down over 09:00, back at 09:40: fires once.
    await clock.advance(next - clock.now() + 40 * 60_000);
    expect(await scheduler().tick()).toBe(1);
    // Down over the next 09:00 until 10:30: skipped, scheduled for the day after.
    await clock.advance(86_400_000 + 50 * 60_000);
    expect(await scheduler().tick()).toBe(0);
    expect(messenger.digests).toHaveLength(1);
    expect(iso((await store.digests.get('feishu:oc_digest'))!.next_fire_at)).toBe('2026-11-23T01:00:00.000Z');
  });

  it('two schedulers racing fire each digest once', async () => {
    const other = await openStore(url);
    stores.push(other);
    const a = scheduler(store);
    const b = scheduler(other);
    const next = await a.set(chat, daily9, 'zh');
    await clock.advance(next - clock.now());
    const [x, y] = await Promise.all([a.tick(), b.tick()]);
    expect(x + y).toBe(1);
    expect(messenger.digests).toHaveLength(1);
  });

  it('a digest whose building outlives its lease (slow report pages, a paused process) is sent by its new holder only', async () => {
    const other = await openStore(url);
    stores.push(other);
    let release!: () => void;
    const slowPages = new Promise<void>((r) => (release = r));
    let paging!: () => void;
    const paged = new Promise<void>((r) => (paging = r));
    const reports = { submissions: async () => (paging(), await slowPages, []) };
    const a = scheduler(store, { reports, owner: 'replica-a', leaseMs: 60_000 });
    const b = scheduler(other, { owner: 'replica-b', leaseMs: 60_000 });
    const next = await a.set(chat, daily9, 'zh');
    await clock.advance(next - clock.now());
    const firing = a.tick();
    await paged;
    await clock.advance(61_000); // a's lease lapsed while it paged
    expect(await b.tick()).toBe(1);
    release();
    expect(await firing).toBe(0);
    expect(messenger.digests).toHaveLength(1);
  });

  it('a digest inside a forward step of the clock fires once, as after downtime; one stepped over by more than the catch-up window is skipped', async () => {
    const d = scheduler();
    const next = await d.set(chat, daily9, 'zh');
    await clock.advance(next - clock.now() - 10 * 60_000); // 08:50
    expect(await d.tick()).toBe(0);
    clock.stepWall(30 * 60_000); // NTP puts the clock forward to 09:20
    expect(await d.tick()).toBe(1);
    expect(await d.tick()).toBe(0);
    clock.stepWall(2 * 86_400_000 + 3 * 3600_000); // two days and three hours forward at once: 12:20
    expect(await d.tick()).toBe(0);
    expect(messenger.digests).toHaveLength(1);
  });

  describe('the wall clock steps back (an NTP correction)', () => {
    const at2030 = { cron: '30 20 * * *', spec: 'daily 20:30', timeZone: 'Asia/Shanghai' };
    const today2030 = Date.UTC(2026, 10, 20, 12, 30);

    it('a digest set while the clock was an hour ahead fires at its time on the corrected clock, once', async () => {
      const d = scheduler();
      clock.stepWall(3600_000); // 21:00 on the wrong clock: today's 20:30 looks gone
      expect(iso(await d.set(chat, at2030, 'zh'))).toBe('2026-11-21T12:30:00.000Z');
      clock.stepWall(-3600_000); // corrected: 20:00
      expect(await d.tick()).toBe(0);
      expect(iso((await store.digests.get('feishu:oc_digest'))!.next_fire_at)).toBe(iso(today2030));
      await clock.advance(today2030 - clock.now() - 1);
      expect(await d.tick()).toBe(0);
      await clock.advance(1);
      expect(await d.tick()).toBe(1);
      expect(await d.tick()).toBe(0);
      await clock.advance(60_000);
      expect(await d.tick()).toBe(0);
      expect(await store.digests.get('feishu:oc_digest')).toMatchObject({ last_fired_at: today2030, next_fire_at: today2030 + 86_400_000 });
      await clock.advance(86_400_000);
      expect(await d.tick()).toBe(1);
      expect(messenger.digests).toHaveLength(2);
    });

    it('a firing already sent on the clock that was ahead is not sent again when the corrected clock reaches it', async () => {
      const d = scheduler();
      await d.set(chat, at2030, 'zh');
      clock.stepWall(3600_000); // 21:00: 20:30 is sent (within the catch-up window)
      expect(await d.tick()).toBe(1);
      clock.stepWall(-3600_000); // back to 20:00: 20:30 lies ahead again
      expect(await d.tick()).toBe(0);
      await clock.advance(today2030 - clock.now());
      expect(await d.tick()).toBe(0);
      expect(messenger.digests).toHaveLength(1);
      expect(await store.digests.get('feishu:oc_digest')).toMatchObject({ last_fired_at: today2030, next_fire_at: today2030 + 86_400_000 });
    });

    it('a step back inside the time before the next firing changes nothing', async () => {
      const d = scheduler();
      await d.set(chat, at2030, 'zh');
      await clock.advance(10 * 60_000); // 20:10, planned at 20:00
      clock.stepWall(-5 * 60_000); // 20:05: still after the plan
      expect(await d.tick()).toBe(0);
      expect(await store.digests.get('feishu:oc_digest')).toMatchObject({ next_fire_at: today2030, lease_owner: null });
      await clock.advance(today2030 - clock.now());
      expect(await d.tick()).toBe(1);
    });

    it('two schedulers plan it again and fire it once', async () => {
      const other = await openStore(url);
      stores.push(other);
      const [a, b] = [scheduler(store), scheduler(other)];
      clock.stepWall(3600_000);
      await a.set(chat, at2030, 'zh');
      clock.stepWall(-3600_000);
      expect(await Promise.all([a.tick(), b.tick()])).toEqual([0, 0]);
      await clock.advance(today2030 - clock.now());
      const [x, y] = await Promise.all([a.tick(), b.tick()]);
      expect(x + y).toBe(1);
      expect(await Promise.all([a.tick(), b.tick()])).toEqual([0, 0]);
      expect(messenger.digests).toHaveLength(1);
    });

    it('a schedule planned before planned_at was kept fires as before', async () => {
      const d = scheduler();
      await d.set(chat, at2030, 'zh');
      await store.db.updateTable('digests').set({ planned_at: null }).execute();
      await clock.advance(today2030 - clock.now());
      expect(await d.tick()).toBe(1);
      expect((await store.digests.get('feishu:oc_digest'))!.planned_at).toBe(today2030);
    });
  });

  /** Ticks once a minute for `minutes`; the times (UTC HH:MM) a digest was sent at. */
  async function everyMinute(d: DigestScheduler, minutes: number): Promise<string[]> {
    const sent: string[] = [];
    for (let i = 0; i < minutes; i++) {
      if ((await d.tick()) > 0) sent.push(iso(clock.now()).slice(11, 16));
      await clock.advance(60_000);
    }
    return sent;
  }

  it('a schedule stored before its whole day was checked fires at most once every 5 minutes', async () => {
    const cron = '0,10,20-59 23 * * *';
    await store.digests.upsert({
      chat_key: 'feishu:oc_digest',
      app: 'feishu',
      platform: 'feishu',
      chat_id: chat.chatId,
      cron,
      time_zone: 'Asia/Shanghai',
      locale: 'zh',
      spec: `cron "${cron}"`,
      last_fired_at: null,
      next_fire_at: nextFire(cron, 'Asia/Shanghai', clock.now()),
      created_at: clock.now(),
    });
    await clock.advance(Date.UTC(2026, 10, 20, 15, 0) - clock.now()); // 23:00 in Shanghai
    expect(await everyMinute(scheduler(), 60)).toEqual(['15:00', '15:10', '15:20', '15:25', '15:30', '15:35', '15:40', '15:45', '15:50', '15:55']);
  });

  it('of two times a DST change brings within 5 minutes of each other, the second is skipped', async () => {
    // New York falls back at 02:00 EDT on Sun 1 Nov 2026: 01:57 EDT, then 01:00 EST three minutes later.
    const s = parseSchedule(['cron', '0,57 1 * * *', 'America/New_York'], 'Asia/Shanghai');
    if (!s.ok) throw new Error(s.error);
    clock = new ManualClock(Date.UTC(2026, 10, 1, 4, 30));
    const d = scheduler();
    await d.set(chat, s, 'en');
    expect(await everyMinute(d, 180)).toEqual(['05:00', '05:57', '06:57']);
  });

  it('off removes the schedule', async () => {
    const d = scheduler();
    await d.set(chat, daily9, 'zh');
    expect(await d.off(chat)).toBe(true);
    await clock.advance(2 * 86_400_000);
    expect(await d.tick()).toBe(0);
  });

  it("groups the chat's tasks since the last digest and adds Feishu report submissions per rule", async () => {
    const fake = new FakeFeishu();
    await fake.listen();
    try {
      const api = new FeishuApi({ appId: fake.appId, appSecret: fake.appSecret, domain: fake.baseUrl, timeoutMs: 2000 });
      const now = Math.floor(clock.now() / 1000);
      for (const [i, rule] of ['日报', '日报', '周报'].entries()) {
        fake.reports.push({
          task_id: `r${i}`,
          rule_id: rule,
          rule_name: rule,
          from_user_id: 'u',
          from_user_name: 'u',
          department_name: '',
          department_ids: [],
          commit_time: now - 600,
          to_user_ids: [],
          to_user_names: [],
          form_contents: [],
        });
      }
      const reports = {
        submissions: async (_app: string, w: { from: Date; to: Date }) => {
          const all = [];
          for await (const s of reportSubmissions(api, w)) all.push(s);
          return all;
        },
      };
      const snap = (id: string, state: string) =>
        JSON.stringify({ ref: { platform: 'feishu', kind: 'drive', id }, state, label: 'drive_folder_task', fetchedAt: new Date().toISOString() });
      const t = (id: string, state: string) =>
        taskRow(`feishu:drive:${id}`, { snapshot: snap(id, state), snapshot_hash: 'x', next_due_at: 0, created_at: clock.now(), last_changed_at: clock.now() });
      const c = (id: string) =>
        cardRow(`feishu:om_${id}`, `feishu:drive:${id}`, { chat_id: chat.chatId, locale: 'en', status: 'done', created_at: clock.now() });
      for (const [id, state] of [
        ['1', 'succeeded'],
        ['2', 'failed'],
        ['3', 'running'],
        ['4', 'succeeded'],
      ])
        await store.cards.add(c(id!), t(id!, state!), false);
      const card = await scheduler(store, { reports }).build(chat, 'en', 'Asia/Shanghai', clock.now() - 3600_000);
      const lists = card.blocks.filter((b) => b.type === 'list') as { title?: string; items: string[] }[];
      expect(lists.map((l) => l.title)).toEqual(['Succeeded (2)', 'Failed (1)', 'Still running (1)', expect.stringMatching(/^Report submissions/)]);
      expect(lists[3]!.items).toEqual(['日报: 2', '周报: 1']);
      expect(card.color).toBe('orange');

      fake.denyScope('/open-apis/report/v1/tasks/query');
      const degraded = await scheduler(store, { reports }).build(chat, 'en', 'Asia/Shanghai', clock.now() - 3600_000);
      expect(JSON.stringify(degraded)).toMatch(/Report data unavailable: [^"]*\(PERMISSION_DENIED/);
    } finally {
      await fake.close();
    }
  });
});

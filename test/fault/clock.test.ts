import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import { until } from '../helpers/bot.js';
import type { Served } from '../helpers/serve.js';
import { feishuProcesses } from '../helpers/cluster.js';

/** Debian's libfaketime (package `faketime`): steps a running process's wall clock, leaving its monotonic clock alone. */
const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
const faked = (offset: string, dir = mkdtempSync(join(tmpdir(), 'taskbot-time-'))) => {
  const file = join(dir, 'faketime');
  writeFileSync(file, `${offset}\n`);
  return { file, env: { LD_PRELOAD: LIBFAKETIME, FAKETIME_TIMESTAMP_FILE: file, FAKETIME_CACHE_DURATION: '1', DONT_FAKE_MONOTONIC: '1' } };
};
const hex = (n: number) => `c1${n.toString(16).padStart(30, '0')}`;

describe.runIf(existsSync(LIBFAKETIME))('the wall clock steps under a running taskbot (libfaketime)', () => {
  const cluster = feishuProcesses();
  let fake: FakeFeishu;
  const start = (env: Record<string, string>) => cluster.start(env);

  async function watched(chat: string, id: string) {
    const { messageId, event } = fake.say(chat, `status ${id}`);
    await fake.gateway.push(event);
    return until('the card', () => fake.im.inChat(chat).find((m) => m.reply_to === messageId), 10_000);
  }

  /** A task that moves on every 600 ms for the whole test. */
  const slowTask = (id: string) =>
    fake.addTask({ id, kind: 'contact', total: 10_000, outcome: 'succeeded', queuedSteps: 0, runningSteps: 10_000, advance: 600 });

  it('SQLite: stepped back an hour, then forward a day, the card keeps updating and is not given up', async () => {
    fake = await cluster.fake();
    const time = faked('+0');
    const p = await start({ ...time.env, DATABASE_URL: `sqlite:${join(mkdtempSync(join(tmpdir(), 'taskbot-time-')), 'bot.db')}` });
    await fake.gateway.waitForConnection();
    slowTask(hex(1));
    const card = await watched('oc_time1', hex(1));
    await until('updates', () => card.history.length >= 3, 15_000);

    writeFileSync(time.file, '-1h\n');
    const back = card.history.length;
    await until('updates after the step back', () => card.history.length >= back + 3, 20_000);
    expect(p.log()).toContain('the clock stepped back by 3600 s');

    writeFileSync(time.file, '+25h\n');
    const forward = card.history.length;
    await until('updates after the step forward', () => card.history.length >= forward + 3, 20_000);
    expect(JSON.stringify(card.card)).not.toContain('Still not finished after 24 hours');
    expect(p.log()).toContain('the clock stepped forward');
  }, 90_000);

  /** libfaketime's offset that makes the faked clock read `at` now (whole seconds). */
  const reading = (at: number) => `${at >= Date.now() ? '+' : '-'}${Math.round(Math.abs(at - Date.now()) / 1000)}s`;
  /** A minute's start at least `ms` from now. */
  const minuteAfter = (ms: number) => Math.ceil((Date.now() + ms) / 60_000) * 60_000;
  const utc = (t: number) => new Date(t).toISOString().slice(0, 16).replace('T', ' ');
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  /** Sets a daily digest at `at`'s time of day (UTC) in `chat`; the answer. */
  async function dailyDigest(chat: string, at: number) {
    const { messageId, event } = fake.say(chat, `digest daily ${utc(at).slice(11)} UTC`);
    await fake.gateway.push(event);
    return until('the answer', () => fake.im.inChat(chat).find((m) => m.reply_to === messageId), 10_000).then((m) => JSON.stringify(m.card));
  }
  /** The digests (not the answers) sent to `chat`. */
  const digestsIn = (chat: string) => fake.im.inChat(chat).filter((m) => !m.reply_to && JSON.stringify(m.card).includes('Task digest'));

  it('SQLite: a digest set while the clock was an hour ahead fires at its time on the corrected clock, once', async () => {
    fake = await cluster.fake();
    const at = minuteAfter(60_000); // a time of day on the corrected clock
    const time = faked(reading(at + 3600_000 - 30_000)); // an hour ahead: `at` looks gone for today
    const p = await start({ ...time.env, DATABASE_URL: `sqlite:${join(mkdtempSync(join(tmpdir(), 'taskbot-time-')), 'bot.db')}` });
    await fake.gateway.waitForConnection();
    expect(await dailyDigest('oc_digest_back', at)).toContain(`next: ${utc(at + 86_400_000)}`);

    writeFileSync(time.file, `${reading(at - 8000)}\n`); // NTP steps it back: `at` is 8 s away
    const stepped = Date.now();
    const [digest] = await until('the digest', () => digestsIn('oc_digest_back').length > 0 && digestsIn('oc_digest_back'), 30_000);
    expect(digest!.created_at).toBeGreaterThan(stepped + 6000); // at its time, not at once
    expect(p.log()).toContain('the clock went back since this digest was planned: planned again');
    await sleep(60_000);
    expect(digestsIn('oc_digest_back')).toHaveLength(1);
  }, 150_000);

  it('SQLite: a digest time the clock steps forward over fires once, as after downtime', async () => {
    fake = await cluster.fake();
    const at = minuteAfter(60_000);
    const time = faked(reading(at - 120_000));
    await start({ ...time.env, DATABASE_URL: `sqlite:${join(mkdtempSync(join(tmpdir(), 'taskbot-time-')), 'bot.db')}` });
    await fake.gateway.waitForConnection();
    expect(await dailyDigest('oc_digest_fwd', at)).toContain(`next: ${utc(at)}`);

    writeFileSync(time.file, `${reading(at + 5 * 60_000)}\n`); // NTP steps it forward over `at`
    await until('the digest', () => digestsIn('oc_digest_fwd').length > 0, 30_000);
    await sleep(20_000);
    expect(digestsIn('oc_digest_fwd')).toHaveLength(1);
  }, 90_000);

  it.runIf(process.env.TEST_DATABASE_URL)(
    'PostgreSQL: two replicas whose clocks differ by more than a lease count each other and never send the same update twice; a step back on one stalls nothing',
    async () => {
      const url = await cluster.postgres();
      fake = await cluster.fake();
      const ahead = faked('+40s');
      const a = await start({ DATABASE_URL: url });
      const b = await start({ ...ahead.env, DATABASE_URL: url });
      await until('two connections', () => fake.gateway.connected === 2, 15_000);
      const counts = async (p: Served) =>
        ((await (await fetch(`${p.url()}/readyz`)).json()) as { checks: { replicas: { count: number } } }).checks.replicas.count;
      await until('each counts two', async () => (await counts(a)) === 2 && (await counts(b)) === 2, 15_000);

      const cards = [];
      for (let i = 0; i < 4; i++) {
        slowTask(hex(10 + i));
        cards.push(await watched(`oc_skew${i}`, hex(10 + i)));
      }
      await new Promise((r) => setTimeout(r, 8000));
      writeFileSync(ahead.file, '-1h\n'); // now an hour behind the other, and the database
      const before = cards.map((c) => c.history.length);
      await new Promise((r) => setTimeout(r, 8000));
      expect(await counts(a)).toBe(2);
      expect(await counts(b)).toBe(2);
      for (const [i, c] of cards.entries()) {
        expect(c.history.length).toBeGreaterThan(before[i]! + 2); // kept updating
        const seen = c.history.map((x) => JSON.stringify(x.card));
        for (let j = 1; j < seen.length; j++) expect(seen[j], `${c.message_id} update ${j}`).not.toBe(seen[j - 1]);
      }
    },
    90_000,
  );
});

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Presence } from '../../src/app/presence.js';
import { systemClock } from '../../src/domain/clock.js';
import { openStore } from '../../src/store/open.js';
import { until } from '../helpers/bot.js';
import type { Store } from '../../src/store/store.js';

describe('replica share', () => {
  const stores: Store[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
  });

  it('two replicas on one database take half of every limit each; when one stops, the other takes all at its next beat', async () => {
    const url = `sqlite:${join(mkdtempSync(join(tmpdir(), 'taskbot-replicas-')), 'r.db')}`;
    for (let i = 0; i < 2; i++) stores.push(await openStore(url));
    const [a, b] = stores.map((s) => new Presence(s, systemClock, undefined, 40));
    await a!.start();
    expect(a!.share()).toBe(1);
    await b!.start();
    expect(b!.share()).toBe(0.5);
    // At a's next beat (every 40 ms; waited for, not timed: a busy machine only makes it later).
    await until('a sees b', () => a!.share() === 0.5, 5000);
    await b!.stop();
    await until('a alone again', () => a!.share() === 1, 5000);
    await a!.stop();
  });

  it('a replica that stops while a beat is in flight is not written back by it: the others take all at their next beat', async () => {
    const url = `sqlite:${join(mkdtempSync(join(tmpdir(), 'taskbot-replicas-')), 'r.db')}`;
    for (let i = 0; i < 2; i++) stores.push(await openStore(url));
    const [a, b] = stores.map((s) => new Presence(s, systemClock, undefined, 40));
    await a!.start();
    await b!.start();
    await until('a sees b', () => a!.share() === 0.5, 5000);
    // b's next beats take a while to land (a slow store), and b stops while one is on its way.
    const replicas = stores[1]!.replicas;
    const heartbeat = replicas.heartbeat.bind(replicas);
    let started = 0;
    let landed = 0;
    replicas.heartbeat = async (...args) => {
      started++;
      await new Promise((r) => setTimeout(r, 300));
      return heartbeat(...args).finally(() => landed++);
    };
    await until('a beat in flight', () => started > 0, 5000);
    await b!.stop();
    await until('the beat that was in flight has landed', () => landed === started, 5000);
    // a's next beats count one: gone for good, not back for GONE_AFTER_MS (10 s) by a late beat.
    const beatsOfA = () => stores[0]!.replicas;
    const seen: number[] = [];
    const aHeartbeat = beatsOfA().heartbeat.bind(beatsOfA());
    beatsOfA().heartbeat = async (...args) => {
      const n = await aHeartbeat(...args);
      seen.push(n);
      return n;
    };
    await until("two of a's beats after it", () => seen.length >= 2, 5000);
    expect(seen).toEqual(seen.map(() => 1));
    expect(a!.share()).toBe(1);
    expect(started).toBe(landed); // b beat no more once stopped
    await a!.stop();
  });
});

describe('replicas of the bot', () => {
  it('two bots on one database count each other (in /readyz) and share the limits; one stopping leaves the other all of them', async () => {
    const { startTestBot } = await import('../helpers/bot.js');
    const url = `sqlite:${join(mkdtempSync(join(tmpdir(), 'taskbot-replicas-')), 'r.db')}`;
    const env = { DATABASE_URL: url };
    const [a, b] = await Promise.all([startTestBot(env, undefined, { heartbeatMs: 50 }), startTestBot(env, undefined, { heartbeatMs: 50 })]);
    const replicas = async (bot: typeof a.bot) =>
      ((await (await fetch(`${bot.url}/readyz`)).json()) as { checks: { replicas: { count: number } } }).checks.replicas.count;
    try {
      await until('both count two', async () => (await replicas(a.bot)) === 2 && (await replicas(b.bot)) === 2);
      await b.bot.stop();
      await until('the one left counts one', async () => (await replicas(a.bot)) === 1);
    } finally {
      await a.bot.stop();
    }
  });
});

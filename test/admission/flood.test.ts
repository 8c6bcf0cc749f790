import { describe, expect, it } from 'vitest';
import type { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import { platformsEach, until, withFeishu } from '../helpers/bot.js';

const toast = (ack: { data?: unknown }) => (ack.data as { toast: { content: string } }).toast.content;
const text = (c: unknown) => JSON.stringify(c);
const repliesIn = (f: FakeFeishu, chat: string) => f.im.inChat(chat);

/** Floods from one person or chat, over the real long connection: answered politely, never at another chat's cost. */
describe('flood limits (commands and presses)', () => {
  const t = platformsEach();

  async function say(f: FakeFeishu, chat: string, words: string, user: string) {
    const m = f.say(chat, words, { user });
    await f.gateway.push(m.event);
    return until(words, () => [...f.im.messages.values()].find((x) => x.reply_to === m.messageId));
  }
  const slowTask = (f: FakeFeishu, id: string) =>
    f.addTask({ id, kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 500, advance: 400 });

  it('one person flooding 1,000 commands is answered politely within the limit, and another chat is not starved', async () => {
    const f = await withFeishu(t, {}, { flood: { perUser: 20, perChat: 60, windowMs: 60_000 } });
    const flood = Array.from({ length: 1000 }, () => f.say('oc_flood', 'help', { user: 'ou_flooder' }));
    const pushes = flood.map((m) => f.gateway.push(m.event));
    const other = f.say('oc_quiet', 'help', { user: 'ou_other' });
    const started = Date.now();
    await f.gateway.push(other.event);
    await until('the other chat is answered', () => repliesIn(f, 'oc_quiet').length === 1, 5000);
    const otherMs = Date.now() - started;
    await Promise.all(pushes);
    await until('the flood is worked off', () => repliesIn(f, 'oc_flood').length >= 21, 20_000);
    await new Promise((r) => setTimeout(r, 500));
    const answers = repliesIn(f, 'oc_flood');
    expect(answers).toHaveLength(21);
    expect(answers.filter((m) => text(m.card).includes('Too many requests'))).toHaveLength(1);
    expect(otherMs).toBeLessThan(5000);
  });

  it('one person flooding Refresh gets toasts, not upstream reads, and another chat is not held up', async () => {
    // Background polls a minute apart: every read counted here is a press's.
    const f = await withFeishu(t, {}, { watch: { minPollMs: 60_000, tickMs: 20 } });
    slowTask(f, '9401');
    const card = await say(f, 'oc_flood', 'status 9401', 'ou_alice');
    const before = f.calls(/task_check/).length;
    const started = Date.now();
    const toasts: string[] = [];
    for (let i = 0; i < 100; i++) toasts.push(toast(await f.gateway.push(f.click(card.message_id, 'refresh', { user: 'ou_alice' }))));
    const reads = f.calls(/task_check/).length - before;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(reads).toBeLessThanOrEqual(2);
    expect(toasts.filter((x) => x.includes('Too many presses')).length).toBeGreaterThanOrEqual(90);
    // Someone else, in another chat, is answered as usual.
    slowTask(f, '9402');
    const other = await say(f, 'oc_calm', 'status 9402', 'ou_carol');
    expect(toast(await f.gateway.push(f.click(other.message_id, 'refresh', { user: 'ou_carol' })))).toBe('Refreshed');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bot } from '../../src/app/bot.js';
import { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import { appsFileEnv } from '../helpers/apps.js';
import { startTestBot, until } from '../helpers/bot.js';
import { encrypt, signed } from '../helpers/feishu-webhook.js';

const KEYS = { wa: { encryptKey: 'wa-encrypt-key', verificationToken: 'wa-token' }, wb: { encryptKey: 'wb-encrypt-key', verificationToken: 'wb-token' } };

/** Two Feishu apps in webhook mode, each at its own path with its own keys (DESIGN §8). */
describe('Feishu webhooks of several apps', () => {
  let wa: FakeFeishu;
  let wb: FakeFeishu;
  let bot: Bot;

  beforeAll(async () => {
    wa = new FakeFeishu();
    wb = new FakeFeishu('cli_b1b2c3d4e5f60719', 'wb-secret');
    await Promise.all([wa.listen(), wb.listen()]);
    for (const f of [wa, wb]) f.addTask({ id: '42', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 50 });
    ({ bot } = await startTestBot(
      appsFileEnv([
        { id: 'wa', fake: wa, extra: { eventMode: 'webhook', ...KEYS.wa } },
        { id: 'wb', fake: wb, extra: { eventMode: 'webhook', ...KEYS.wb } },
      ]),
    ));
  });
  afterAll(async () => {
    await bot?.stop();
    await Promise.all([wa?.close(), wb?.close()]);
  });

  /** `f`'s message event as that app's Feishu delivers it (its token, encrypted and signed with its key), posted to `path`. */
  async function deliver(
    f: FakeFeishu,
    keys: { encryptKey: string; verificationToken: string },
    path: string,
    chat: string,
    header: Record<string, unknown> = {},
  ) {
    const said = f.say(chat, 'status 42');
    const event = { ...said.event, header: { ...said.event.header, token: keys.verificationToken, ...header } };
    const body = JSON.stringify({ encrypt: encrypt(event, keys.encryptKey) });
    const r = await fetch(`${bot.url}${path}`, { method: 'POST', body, headers: signed(body, { key: keys.encryptKey }) });
    return { status: r.status, messageId: said.messageId };
  }
  const repliesTo = (f: FakeFeishu, id: string) => [...f.im.messages.values()].filter((m) => m.reply_to === id);

  it("each app's events are taken at its own path and answered by that app", async () => {
    const a = await deliver(wa, KEYS.wa, '/feishu/wa/webhook/event', 'oc_wh');
    const b = await deliver(wb, KEYS.wb, '/feishu/wb/webhook/event', 'oc_wh');
    expect([a.status, b.status]).toEqual([200, 200]);
    await until('both answers', () => repliesTo(wa, a.messageId).length === 1 && repliesTo(wb, b.messageId).length === 1);
  });

  it("another app's event is refused with 401 and answered nowhere: signed with its keys, or naming it in the header", async () => {
    // wb's delivery, sent to wa's path: wa's key does not open it.
    const wrongKeys = await deliver(wb, KEYS.wb, '/feishu/wa/webhook/event', 'oc_cross1');
    expect(wrongKeys.status).toBe(401);
    // Signed with wa's keys, but the header says the event is wb's.
    const wrongApp = await deliver(wa, KEYS.wa, '/feishu/wa/webhook/event', 'oc_cross2', { app_id: wb.appId });
    expect(wrongApp.status).toBe(401);
    await new Promise((r) => setTimeout(r, 300));
    for (const f of [wa, wb]) expect([...f.im.messages.values()].filter((m) => m.chat_id.startsWith('oc_cross'))).toEqual([]);
  });

  it('the single-app routes are not there when no app is named feishu', async () => {
    const r = await deliver(wa, KEYS.wa, '/feishu/webhook/event', 'oc_legacy');
    expect(r.status).toBe(404);
  });
});

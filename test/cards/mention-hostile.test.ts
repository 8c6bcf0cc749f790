import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FeishuMessenger } from '../../src/platforms/feishu/messenger.js';
import { DingtalkMessenger } from '../../src/platforms/dingtalk/messenger.js';
import type { FeishuMessage, FeishuApi } from '../../src/platforms/feishu/api-client.js';
import type { DingtalkApi } from '../../src/platforms/dingtalk/api-client.js';
import { isPlatformUserId } from '../../src/domain/user-id.js';

/** Text an attacker controls (a task's title or id ends up in the mention's text). */
const hostile = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.constantFrom(
    '<at user_id="all"></at>',
    '<at id=all></at>',
    '@_all',
    '@all',
    '@所有人',
    '[x](https://evil.example)',
    'https://evil.example',
    '@staff001',
    '<at user_id="ou_boss"></at>',
  ),
  fc.string({ unit: 'grapheme', maxLength: 300 }),
);
/** User ids: real-looking ones and junk (the shape check keeps only the former). */
const userIds = fc.array(
  fc.oneof(
    fc.stringMatching(/^ou_[0-9a-f]{8,32}$/),
    fc.stringMatching(/^[0-9]{6,12}$/),
    fc.string({ maxLength: 40 }),
    fc.constant('ou_x"></at><at user_id="all'),
  ),
  { maxLength: 5 },
);

describe('mentions from hostile data', () => {
  it('Feishu: the only <at> in the message are the valid ids given, one each; the text cannot add any', () => {
    fc.assert(
      fc.asyncProperty(hostile, userIds, async (text, ids) => {
        const sent: FeishuMessage[] = [];
        const api = { reply: async (_c: string, _p: string, msg: FeishuMessage) => (sent.push(msg), 'om_1') } as unknown as FeishuApi;
        await new FeishuMessenger(api).mention({ app: 'feishu', platform: 'feishu', chatId: 'oc_1', handle: 'om_card' }, ids, text, 'k');
        const body = (JSON.parse(sent[0]!.content) as { text: string }).text;
        const valid = ids.filter(isPlatformUserId);
        expect(body.match(/<at /g)?.length ?? 0).toBe(valid.length);
        for (const id of valid) expect(body).toContain(`<at user_id="${id}"></at>`);
        expect(body).not.toMatch(/https?:\/\/|@_?all\b|@所有人/i);
      }),
      { numRuns: 300 },
    );
  });

  it('DingTalk: at.atUserIds are exactly the valid ids, and the text mentions nobody else', () => {
    fc.assert(
      fc.asyncProperty(hostile, userIds, async (text, ids) => {
        const calls: { md: { text: string }; at?: string[] }[] = [];
        const api = {
          sessionMarkdown: async (_w: string, md: { text: string }, at?: string[]) => void calls.push({ md, ...(at && { at }) }),
        } as unknown as DingtalkApi;
        const m = new DingtalkMessenger(api, { robotCode: 'r', now: () => 0 });
        await m.mention(
          {
            app: 'dingtalk',
            platform: 'dingtalk',
            chatId: 'cid==',
            handle: 'tb-1',
            meta: { sessionWebhook: 'http://127.0.0.1/s', sessionWebhookExpiresAt: 60_000 },
          },
          ids,
          text,
        );
        const valid = ids.filter(isPlatformUserId);
        expect(calls[0]!.at ?? []).toEqual(valid);
        const lead = valid.map((id) => `@${id}`).join(' ');
        const rest = calls[0]!.md.text.slice(lead.length);
        expect(calls[0]!.md.text.startsWith(lead)).toBe(true);
        expect(rest).not.toMatch(/(^|\s)@_?all\b|@所有人|https?:\/\//i);
      }),
      { numRuns: 300 },
    );
  });
});

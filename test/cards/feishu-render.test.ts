import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { feishuCardText, renderFeishuCard, FEISHU_CARD_MAX_BYTES } from '../../src/cards/feishu.js';
import { taskCard } from '../../src/cards/task-card.js';
import { plain } from '../../src/cards/sanitize.js';
import type { TaskSnapshot } from '../../src/domain/task.js';
import { sampleCards, RUNNING_CONTACT } from '../helpers/card-samples.js';
import { feishuCardProblems } from '../helpers/feishu-card-rules.js';

describe('Feishu card JSON 2.0 (golden files)', () => {
  for (const locale of ['zh', 'en'] as const) {
    for (const [name, card] of Object.entries(sampleCards(locale))) {
      it(`${name} (${locale})`, async () => {
        const json = renderFeishuCard(card);
        expect(json.schema).toBe('2.0');
        expect(feishuCardProblems(json)).toEqual([]);
        await expect(JSON.stringify(json, null, 2)).toMatchFileSnapshot(`../golden/feishu/${name}.${locale}.json`);
      });
    }
  }
});

describe('the card JSON 2.0 rules checker', () => {
  it('finds a form inside a collapsible panel, a nested form, duplicate input names, a stray submit button and an unknown tag', () => {
    const panel = (elements: unknown[]) => ({ tag: 'collapsible_panel', header: { title: { tag: 'plain_text', content: 'x' } }, elements });
    const card = {
      schema: '2.0',
      body: {
        elements: [
          panel([{ tag: 'form', name: 'f', elements: [] }]),
          {
            tag: 'form',
            name: 'g',
            elements: [
              { tag: 'input', name: 'a' },
              { tag: 'input', name: 'a' },
              { tag: 'form', name: 'h', elements: [] },
            ],
          },
          { tag: 'button', form_action_type: 'submit', text: { tag: 'plain_text', content: 'go' } },
          { tag: 'marquee' },
        ],
      },
    };
    expect(feishuCardProblems(card)).toEqual([
      "body.elements[0].elements[0]: a form only at the body's root",
      'body.elements[0].elements[0]: a form inside a collapsible panel',
      'body.elements[1].elements[1]: input name a used twice in one form',
      "body.elements[1].elements[2]: a form only at the body's root",
      'body.elements[1].elements[2]: a form inside a form',
      'body.elements[2]: a submit button outside a form',
      'body.elements[3]: unknown tag marquee',
    ]);
  });
});

/** Text an attacker controls: mentions, links, markdown, control characters, and lots of it. */
const hostile = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.constantFrom(
    '<at user_id="all">everyone</at>',
    '<at id=all></at>',
    '@_all',
    '@all 请注意',
    '@所有人',
    '[click](https://evil.example/x)',
    'https://evil.example/phish',
    'http://10.0.0.1/',
    'www.evil.example',
    '**bold** _i_ `code` <font color=red>x</font>',
    '\u0000\u0007\u001b[31m',
    '<a href="https://evil.example">x</a>',
  ),
  fc.string({ unit: 'grapheme', maxLength: 2000 }),
);

const snapshot = fc.record({
  id: hostile,
  name: hostile,
  message: hostile,
  reason: hostile,
  count: fc.integer({ min: 0, max: 400 }),
});

describe('Feishu cards from hostile data', () => {
  it('never carry a mention or a link taken from data, and stay under 30 KB', () => {
    fc.assert(
      fc.property(snapshot, ({ id, name, message, reason, count }) => {
        const s: TaskSnapshot = {
          ...RUNNING_CONTACT,
          ref: { ...RUNNING_CONTACT.ref, id },
          state: 'failed',
          failed: count,
          failureReason: reason,
          items: Array.from({ length: Math.min(count, 50) }, (_, i) => ({ name: `${name}${i}`, ok: false, code: '1', message })),
        };
        for (const mode of ['live', 'final', 'error'] as const) {
          const card = renderFeishuCard(taskCard(s, { locale: 'zh', timeZone: 'UTC', mode, errorText: message }));
          const json = JSON.stringify(card);
          expect(Buffer.byteLength(json)).toBeLessThanOrEqual(FEISHU_CARD_MAX_BYTES);
          expect(json).not.toMatch(/<at|<a |https?:\/\/|www\.|@_?all\b|@所有人/i);
          expect(json).not.toMatch(/"tag":"(markdown|lark_md|a)"/);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps big item lists under the limit by saying "and N more", in the object and in the text a message carries', () => {
    const items = Array.from({ length: 50 }, (_, i) => ({ name: 'x'.repeat(60) + i, ok: false, code: '1', message: 'y'.repeat(120) }));
    const model = taskCard({ ...RUNNING_CONTACT, items, failed: 5000 }, { locale: 'en', timeZone: 'UTC', mode: 'live' });
    const json = feishuCardText(model);
    expect(json).toBe(JSON.stringify(renderFeishuCard(model)));
    expect(Buffer.byteLength(json)).toBeLessThanOrEqual(FEISHU_CARD_MAX_BYTES);
    expect(json).toContain('and 4990 more');
  });

  it('defuses the usual tricks in plain text', () => {
    expect(plain('<at user_id="all"></at>')).toBe('＜at user_id="all"＞＜/at＞');
    expect(plain('see https://x.y')).toBe('see https:\u200b//x.y');
    expect(plain('@all @_all @所有人')).toBe('@\u200ball @\u200b_all @\u200b所有人');
  });
});

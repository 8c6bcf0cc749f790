import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderCardParams, DINGTALK_PARAM_MAX_BYTES } from '../../src/cards/dingtalk.js';
import { renderMarkdown } from '../../src/cards/markdown.js';
import { markdownText } from '../../src/cards/sanitize.js';
import { taskCard } from '../../src/cards/task-card.js';
import { cardAsset } from '../../src/cards/assets.js';
import { sampleCards, RUNNING_CONTACT } from '../helpers/card-samples.js';

describe('DingTalk renderings (golden files)', () => {
  for (const locale of ['zh', 'en'] as const) {
    for (const [name, card] of Object.entries(sampleCards(locale))) {
      it(`${name} (${locale}) as markdown`, async () => {
        const md = renderMarkdown(card);
        await expect(`# ${md.title}\n\n${md.text}\n`).toMatchFileSnapshot(`../golden/dingtalk/${name}.${locale}.md`);
      });
    }
    it(`task cards' cardParamMap follows the documented template (${locale})`, async () => {
      const vars = Object.keys(cardAsset<{ variables: Record<string, unknown> }>('dingtalk/template.json').variables).sort();
      for (const name of ['task-live', 'task-failed', 'task-stopped']) {
        const params = renderCardParams(sampleCards(locale)[name]!);
        expect(Object.keys(params).sort()).toEqual(vars);
        for (const v of Object.values(params)) expect(typeof v).toBe('string');
        await expect(JSON.stringify(params, null, 2)).toMatchFileSnapshot(`../golden/dingtalk/${name}.${locale}.params.json`);
      }
    });
  }
});

const hostile = fc.oneof(
  fc.string({ maxLength: 400 }),
  fc.constantFrom(
    '@all',
    '@所有人 看这里',
    '[x](https://evil.example)',
    '![img](http://e.x/a.png)',
    '<font color=red>x</font>',
    '# heading',
    '> quote',
    '`code`',
    'www.evil.example',
  ),
  fc.string({ unit: 'grapheme', maxLength: 3000 }),
);

describe('DingTalk text from hostile data', () => {
  it('markdown and card values never carry a link, image, @all or raw markup from data, and fit their limits', () => {
    fc.assert(
      fc.property(hostile, hostile, fc.integer({ min: 0, max: 300 }), (name, reason, n) => {
        const s = {
          ...RUNNING_CONTACT,
          state: 'failed' as const,
          failureReason: reason,
          failed: n,
          items: Array.from({ length: Math.min(n, 50) }, (_, i) => ({ name: `${name}${i}`, ok: false, message: reason })),
        };
        const card = taskCard(s, { locale: 'zh', timeZone: 'UTC', mode: 'final' });
        const md = renderMarkdown(card);
        expect(Buffer.byteLength(md.text)).toBeLessThanOrEqual(15_000);
        const params = renderCardParams(card);
        for (const v of Object.values(params)) expect(Buffer.byteLength(v)).toBeLessThanOrEqual(DINGTALK_PARAM_MAX_BYTES);
        for (const text of [md.text, ...Object.values(params)]) {
          expect(text).not.toMatch(/(?<!\\)\]\(|https?:\/\/|www\.|<font|@all\b|@所有人/i);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('escapes markdown control characters', () => {
    expect(markdownText('**a** [b](c) # d')).toBe('\\*\\*a\\*\\* \\[b\\](c) # d');
    expect(markdownText('# title\n> quote')).toBe('\\# title ＞ quote');
    expect(markdownText('- item')).toBe('\\- item');
    expect(markdownText('2026-11-21 1.5')).toBe('2026-11-21 1.5');
  });
});

import { fill, messages } from '../i18n/messages.js';
import type { Block, CardModel } from '../domain/card.js';
import { clipBytes, shrinkList } from './shrink.js';
import { markdownText } from './sanitize.js';
import { chartText } from './chart.js';

/** DingTalk robot messages (sampleMarkdown) carry at most 15,000 bytes. */
export const DINGTALK_MARKDOWN_MAX_BYTES = 15_000;

const STATE_MARK = { blue: '🔵', green: '🟢', red: '🔴', orange: '🟠', grey: '⚪' } as const;

/**
 * A neutral card as DingTalk markdown ({title, text}): every piece of data escaped, and cut
 * politely ("and N more") to fit the message limit.
 */
export function renderMarkdown(card: CardModel, maxBytes = DINGTALK_MARKDOWN_MAX_BYTES): { title: string; text: string } {
  const andMore = (n: number) => fill(messages(card.locale).words.andMore, { n });
  let blocks = card.blocks;
  for (;;) {
    const text = [
      `### ${STATE_MARK[card.color]} ${markdownText(card.title)}`,
      ...blocks.map((b) => block(b, andMore)),
      ...(card.note ? [`> ${markdownText(card.note)}`] : []),
    ].join('\n\n');
    if (Buffer.byteLength(text) <= maxBytes) return { title: card.title.slice(0, 60), text };
    const cut = shrinkList(blocks);
    if (!cut) return { title: card.title.slice(0, 60), text: clipBytes(text, maxBytes) };
    blocks = cut;
  }
}

function block(b: Block, andMore: (n: number) => string): string {
  switch (b.type) {
    case 'text':
      return markdownText(b.text);
    case 'progress':
      return `\`${b.text.replace(/`/g, "'")}\``;
    case 'fields':
      return b.fields.map((f) => `**${markdownText(f.label)}**: ${markdownText(f.value)}`).join('  \n');
    case 'list':
      return [
        ...(b.title ? [`**${markdownText(b.title)}**`] : []),
        ...b.items.map((i) => `- ${markdownText(i)}`),
        ...(b.more > 0 ? [`- … ${andMore(b.more)}`] : []),
      ].join('\n');
    case 'chart':
      return chartText(b).split('\n').map(markdownText).join('  \n');
  }
}

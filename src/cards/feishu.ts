import { fill, messages } from '../i18n/messages.js';
import { cardAsset, fillLayout } from './assets.js';
import type { Block, CardButton, CardColor, CardModel, TrackForm } from '../domain/card.js';
import { plain } from './sanitize.js';
import { shrinkList } from './shrink.js';
import { vchartSpec } from './chart.js';

/** Feishu refuses cards over 30 KB; we stay under with room for the platform's own wrapping. */
export const FEISHU_CARD_MAX_BYTES = 28 * 1024;

type Elements = Record<
  'text' | 'progress' | 'field' | 'listTitle' | 'listPanel' | 'listItem' | 'listMore' | 'note' | 'divider' | 'button' | 'chart' | 'trackForm',
  unknown
>;

/** text_tag colours have their own palette (no grey). */
const TAG_COLOR: Record<CardColor, string> = { blue: 'blue', green: 'green', red: 'red', orange: 'orange', grey: 'neutral' };
const BUTTON_TYPE = { primary: 'primary', default: 'default', danger: 'danger' } as const;

/** Card JSON 2.0 for a neutral card, from the layouts in cards/feishu/, always under the size limit. */
export function renderFeishuCard(card: CardModel): Record<string, unknown> {
  return underLimit(card).out;
}

/** The same card as the JSON text a message's `content` carries (written once: the size check's). */
export function feishuCardText(card: CardModel): string {
  return underLimit(card).text;
}

function underLimit(card: CardModel): { out: Record<string, unknown>; text: string } {
  let model = card;
  for (;;) {
    const out = renderOnce(model);
    const text = JSON.stringify(out);
    if (Buffer.byteLength(text) <= FEISHU_CARD_MAX_BYTES) return { out, text };
    const smaller = shrink(model);
    if (!smaller) return { out, text };
    model = smaller;
  }
}

function renderOnce(card: CardModel): Record<string, unknown> {
  const el = cardAsset<Elements>('feishu/elements.json');
  const m = messages(card.locale);
  const elements: unknown[] = [];
  for (const b of card.blocks) elements.push(...blockElements(b, el, (n) => fill(m.words.andMore, { n })));
  if (card.note) elements.push(fillLayout(el.note, { text: plain(card.note) }));
  if (card.buttons?.length) {
    elements.push(el.divider);
    for (const b of card.buttons) elements.push(button(b, el));
  }
  // A form only at the body's root (card JSON 2.0), after everything else.
  if (card.form) elements.push(el.divider, trackForm(card.form, el));
  const stateTag = card.type === 'task' ? taskState(card) : '';
  return fillLayout(cardAsset(`feishu/${card.type}.json`), {
    title: plain(card.title),
    summary: plain(stateTag ? `${stateTag} · ${card.title}` : card.title),
    color: card.color,
    tagColor: TAG_COLOR[card.color],
    state: plain(stateTag),
    elements,
  }) as Record<string, unknown>;
}

function blockElements(b: Block, el: Elements, andMore: (n: number) => string): unknown[] {
  switch (b.type) {
    case 'text':
      return [fillLayout(el.text, { text: plain(b.text) })];
    case 'progress':
      return [fillLayout(el.progress, { text: plain(b.text) })];
    case 'fields':
      return b.fields.map((f) => fillLayout(el.field, { label: plain(f.label), value: plain(f.value) }));
    case 'list': {
      const lines = [
        ...b.items.map((i) => fillLayout(el.listItem, { text: plain(i) })),
        ...(b.more > 0 ? [fillLayout(el.listMore, { text: andMore(b.more) })] : []),
      ];
      // Folded under its title, opened with a tap: a long list of failures does not push the buttons away.
      if (b.folded && b.title) return [fillLayout(el.listPanel, { title: plain(b.title), elements: lines })];
      return [...(b.title ? [fillLayout(el.listTitle, { text: plain(b.title) })] : []), ...lines];
    }
    case 'chart':
      return [fillLayout(el.chart, { spec: vchartSpec({ ...b, title: plain(b.title), points: b.points.map((p) => ({ ...p, label: plain(p.label) })) }) })];
  }
}

function trackForm(f: TrackForm, el: Elements): unknown {
  return fillLayout(el.trackForm, {
    title: plain(f.title),
    idLabel: plain(f.idLabel),
    idPlaceholder: plain(f.idPlaceholder),
    kindLabel: plain(f.kindLabel),
    kinds: f.kinds.map((k) => ({ text: { tag: 'plain_text', content: plain(k.label) }, value: k.value })),
    notifyLabel: plain(f.notifyLabel),
    submitLabel: plain(f.submitLabel),
  });
}

function button(b: CardButton, el: Elements): unknown {
  return fillLayout(el.button, { label: plain(b.label), style: BUTTON_TYPE[b.style], action: b.action });
}

/** The state word of a task card is its first field's value. */
function taskState(card: CardModel): string {
  const fields = card.blocks.find((b) => b.type === 'fields');
  return fields?.type === 'fields' ? (fields.fields[0]?.value ?? '') : '';
}

/** One step smaller: fewer list items (counted in "more"), else shorter long texts. */
function shrink(card: CardModel): CardModel | undefined {
  const blocks = shrinkList(card.blocks);
  if (blocks) return { ...card, blocks };
  if (!card.blocks.some((b) => b.type === 'text' && b.text.length > 200)) return undefined;
  return { ...card, blocks: card.blocks.map((b) => (b.type === 'text' && b.text.length > 200 ? { ...b, text: `${b.text.slice(0, 200)}…` } : b)) };
}

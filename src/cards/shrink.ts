import type { Block } from '../domain/card.js';

/** Drops a fifth of the longest list's items, counting them in "more". */
export function shrinkList(blocks: Block[]): Block[] | undefined {
  let at = -1;
  blocks.forEach((b, i) => {
    const cur = blocks[at];
    if (b.type === 'list' && b.items.length > 0 && (at < 0 || (cur?.type === 'list' && b.items.length > cur.items.length))) at = i;
  });
  if (at < 0) return undefined;
  return blocks.map((b, i) => {
    if (i !== at || b.type !== 'list') return b;
    const keep = Math.floor(b.items.length * 0.8);
    return { ...b, items: b.items.slice(0, keep), more: b.more + b.items.length - keep };
  });
}

/** Cuts text to at most `max` UTF-8 bytes, marking the cut with an ellipsis. */
export function clipBytes(s: string, max: number): string {
  if (Buffer.byteLength(s) <= max) return s;
  let out = s;
  while (Buffer.byteLength(out) > max - 3) out = out.slice(0, Math.floor(out.length * 0.9));
  return `${out}…`;
}

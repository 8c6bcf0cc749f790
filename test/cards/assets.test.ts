import { describe, expect, it } from 'vitest';
import { fillLayout } from '../../src/cards/assets.js';

describe('fillLayout', () => {
  const layout = {
    tag: 'div',
    text: { tag: 'plain_text', content: 'Task {{id}}: {{state}}' },
    value: '{{value}}',
    fixed: { tag: 'hr', parts: [{ a: 1 }] },
  };

  it('fills whole placeholders with any JSON and inner ones with text, leaving unknown names as they are', () => {
    expect(fillLayout(layout, { id: 't1', value: { n: 2 } })).toEqual({
      tag: 'div',
      text: { tag: 'plain_text', content: 'Task t1: {{state}}' },
      value: { n: 2 },
      fixed: { tag: 'hr', parts: [{ a: 1 }] },
    });
  });

  it('draws each card as its own object: filling again does not see the last values, and the layout stays a layout', () => {
    const a = fillLayout(layout, { id: 'a', state: 'x', value: 1 }) as typeof layout;
    const b = fillLayout(layout, { id: 'b', state: 'y', value: 2 }) as typeof layout;
    expect(a.text.content).toBe('Task a: x');
    expect(b.text.content).toBe('Task b: y');
    expect(a.text).not.toBe(b.text);
    expect(layout.text.content).toBe('Task {{id}}: {{state}}');
  });

  it('shares the parts without placeholders, frozen so no card can change what another draws', () => {
    const a = fillLayout(layout, {}) as typeof layout;
    const b = fillLayout(layout, {}) as typeof layout;
    expect(a.fixed).toBe(b.fixed);
    expect(() => {
      (a.fixed.parts[0] as { a: number }).a = 9;
    }).toThrow(TypeError);
    expect(b.fixed.parts[0]).toEqual({ a: 1 });
  });

  it('fills a bare string layout', () => {
    expect(fillLayout('{{x}}', { x: [1] })).toEqual([1]);
    expect(fillLayout('n={{x}}', { x: 3 })).toBe('n=3');
  });
});

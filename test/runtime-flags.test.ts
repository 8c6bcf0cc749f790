import { describe, expect, it } from 'vitest';
import { HEAP_GROWING_PERCENT, runtimeFlags } from '../src/runtime-flags.js';

describe('runtime flags', () => {
  it('grow the heap by 1.3× by default', () => {
    expect(runtimeFlags([])).toEqual([`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
    expect(runtimeFlags(['--enable-source-maps', '--max-old-space-size=512'])).toEqual(['--heap-growing-percent=30']);
  });

  it("leave an operator's own setting on node's command line alone", () => {
    expect(runtimeFlags(['--heap-growing-percent=80'])).toEqual([]);
    expect(runtimeFlags(['--max-old-space-size=512', '--heap_growing_percent=10'])).toEqual([]);
  });
});

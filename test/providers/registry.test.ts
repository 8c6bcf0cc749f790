import { describe, expect, it } from 'vitest';
import { TaskRegistry } from '../../src/providers/registry.js';
import { maskEmail, maskMobile } from '../../src/domain/mask.js';
import { progressBar } from '../../src/cards/progress-bar.js';
import { nextPollDelay } from '../../src/watch/backoff.js';
import { computeProgress } from '../../src/domain/task.js';

const registry = new TaskRegistry({});

describe('provider choice for an id', () => {
  it('Feishu: 32 hex is a contact task, digits a drive task', () => {
    expect(registry.candidates({ app: 'feishu', platform: 'feishu', id: '0123456789ABCDEF0123456789abcdef' })).toEqual(['contact']);
    expect(registry.candidates({ app: 'feishu', platform: 'feishu', id: '7360595374803812356' })).toEqual(['drive']);
  });

  it('DingTalk: both kinds are candidates', () => {
    expect(registry.candidates({ app: 'dingtalk', platform: 'dingtalk', id: 'abcd' })).toEqual(['storage', 'doc']);
  });

  it('an explicit kind wins, and must fit the platform and the id', () => {
    expect(registry.candidates({ app: 'dingtalk', platform: 'dingtalk', id: '12345678', kind: 'doc' })).toEqual(['doc']);
    expect(() => registry.candidates({ app: 'feishu', platform: 'feishu', id: '123', kind: 'doc' })).toThrow(/not a feishu task kind/);
    expect(() => registry.candidates({ app: 'feishu', platform: 'feishu', id: 'abc', kind: 'drive' })).toThrow(/digits only/);
  });

  it('rejects ids no kind accepts, naming the shapes', () => {
    for (const id of ['', 'abc', '123x', '1; DROP TABLE watches', '0123456789abcdef0123456789abcde']) {
      expect(() => registry.candidates({ app: 'feishu', platform: 'feishu', id })).toThrow(/32 hexadecimal characters/);
    }
    expect(() => registry.candidates({ app: 'dingtalk', platform: 'dingtalk', id: '../etc' })).toThrow(expect.objectContaining({ code: 'INVALID_TASK_ID' }));
  });

  it('answers NOT_CONFIGURED for a platform without credentials', async () => {
    await expect(registry.fetch({ app: 'feishu', platform: 'feishu', id: '42' })).rejects.toMatchObject({ code: 'NOT_CONFIGURED' });
  });
});

describe('text helpers', () => {
  it('masks emails and mobiles', () => {
    expect(maskEmail('custom_1@feishu.cn')).toBe('c***@feishu.cn');
    expect(maskMobile('13000000001')).toBe('130****0001');
    expect(maskMobile('+86 130 0000 0001')).toBe('+86****0001');
    expect(maskEmail('x')).toBe('*');
  });

  it('draws a progress bar and computes progress from counts', () => {
    expect(progressBar(0, 10)).toBe('░'.repeat(10));
    expect(progressBar(55, 10)).toBe('██████░░░░');
    expect(progressBar(100, 4)).toBe('████');
    expect(computeProgress({ total: 8, succeeded: 3, failed: 1 })).toBe(50);
    expect(computeProgress({ progress: 140 })).toBe(100);
    expect(computeProgress({ total: 0 })).toBeUndefined();
  });

  it('backs off 2 s → 60 s while nothing changes and resets on a change', () => {
    const seq: number[] = [];
    let d: number | undefined;
    for (let i = 0; i < 8; i++) seq.push((d = nextPollDelay(d, false)));
    expect(seq).toEqual([2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
    expect(nextPollDelay(60000, true)).toBe(2000);
  });
});

import { describe, expect, it } from 'vitest';
import { accept, type AdmitDeps } from '../../src/admission/accept.js';
import { FloodGuard } from '../../src/admission/flood.js';
import { WorkQueue } from '../../src/admission/work-queue.js';
import { systemClock } from '../../src/domain/clock.js';
import type { InboundCommand } from '../../src/domain/inbound-port.js';
import { RecordingMessenger } from '../helpers/recording-messenger.js';
import { Inbox } from '../../src/admission/inbox.js';
import { freshStore } from '../helpers/stores.js';

const cmd: InboundCommand = {
  app: 'feishu',
  platform: 'feishu',
  chatId: 'oc_slow',
  chatType: 'group',
  userId: 'ou_1',
  text: 'help',
  reply: { messageId: 'om_in' },
};

describe('accepting a command', () => {
  it('a store too slow to keep it in time: acknowledged with an apology at once; kept late, it is let go (the apology was its answer), not answered again', async () => {
    const messenger = new RecordingMessenger();
    const done: string[] = [];
    let kept!: (k: string) => void;
    const inbox = { take: () => new Promise<string>((r) => (kept = r)), done: async (k: string) => void done.push(k) };
    const deps = {
      clock: systemClock,
      flood: new FloodGuard(),
      queue: new WorkQueue(1, 10, () => undefined),
      inbox,
      commands: { messengers: { feishu: messenger }, settings: { of: () => ({ locale: 'en' }) } },
    } as unknown as AdmitDeps;
    const t = performance.now();
    await accept(cmd, ['feishu:msg:om_in'], deps);
    expect(performance.now() - t).toBeLessThan(2500); // within the platform's deadline
    await new Promise((r) => setTimeout(r, 50));
    expect(messenger.sent).toHaveLength(1);
    expect(JSON.stringify(messenger.sent[0]!.card)).toContain('Something went wrong on our side');
    kept('feishu:msg:om_in');
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toEqual(['feishu:msg:om_in']);
    expect(messenger.sent).toHaveLength(1);
  });
});

describe('the inbox', () => {
  it('a repeat delivery that arrives while the first is being answered is a duplicate and leaves the first its lease', async () => {
    const { store } = await freshStore('sqlite');
    const inbox = new Inbox({ store, clock: systemClock, owner: 'r1', operatorOf: () => undefined, room: () => 10, adopted: () => undefined });
    const keys = ['feishu:msg:om_twice', 'feishu:event:ev_twice'];
    const key = await inbox.take(cmd, keys, false);
    expect(key).toBe('feishu:msg:om_twice');
    expect(await inbox.take(cmd, keys, false)).toBeUndefined();
    // The first delivery's answer still goes out: this replica holds the command.
    await expect(inbox.guard(key!)).resolves.toBeUndefined();
    await inbox.done(key!);
    await store.close();
  });
});

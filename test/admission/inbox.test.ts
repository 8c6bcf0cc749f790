import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Inbox } from '../../src/admission/inbox.js';
import { systemClock } from '../../src/domain/clock.js';
import type { InboundCommand } from '../../src/domain/inbound-port.js';
import { openStore } from '../../src/store/open.js';

const cmd: InboundCommand = {
  app: 'feishu',
  platform: 'feishu',
  chatId: 'oc_1',
  chatType: 'group',
  userId: 'ou_1',
  text: 'status t1',
  reply: { messageId: 'om_1', idempotencyKey: 'feishu:om_1' },
};

describe('inbox', () => {
  it('a command whose row is still being written when its leases are renewed stays its own (not taken for lost, so not left unanswered)', async () => {
    const store = await openStore(`sqlite:${join(mkdtempSync(join(tmpdir(), 'taskbot-inbox-')), 'i.db')}`);
    // Renewals every 100 ms; the claim as slow as a distant database's round trip, so renewals
    // fall between the delivery and its row landing (found in the command benchmark: the renewal
    // found no row, the command was taken for another holder's and never answered).
    const claim = store.inbox.claim.bind(store.inbox);
    store.inbox.claim = async (...a) => {
      await new Promise((r) => setTimeout(r, 250));
      return claim(...a);
    };
    const inbox = new Inbox({
      store,
      clock: systemClock,
      owner: 'me',
      operatorOf: () => undefined,
      room: () => 10,
      adopted: () => expect.fail('nothing is left for adoption'),
      leaseMs: 300,
    });
    inbox.start();
    try {
      const taking = inbox.take(cmd, ['feishu:msg:om_1', 'feishu:event:ev_1'], false);
      // A repeat delivery while the first is being kept is a duplicate (the store says so).
      expect(await inbox.take(cmd, ['feishu:msg:om_1'], false)).toBeUndefined();
      const key = await taking;
      expect(key).toBe('feishu:msg:om_1');
      await new Promise((r) => setTimeout(r, 150));
      await expect(inbox.guard(key!)).resolves.toBeUndefined();
    } finally {
      await inbox.stop();
      await store.close();
    }
  });
});

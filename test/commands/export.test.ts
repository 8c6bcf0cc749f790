import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EXPORT_LEASE_MS, startExport, type ExportDeps } from '../../src/commands/export.js';
import { ManualClock } from '../../src/domain/clock.js';
import type { TaskSnapshot } from '../../src/domain/task.js';
import type { Store, WatchedCard } from '../../src/store/store.js';
import { until } from '../helpers/bot.js';
import { latch } from '../helpers/latch.js';
import { RecordingMessenger } from '../helpers/recording-messenger.js';
import { freshStore } from '../helpers/stores.js';

const card = { card_key: 'feishu:om_1', app: 'feishu', platform: 'feishu', chat_id: 'oc_1', handle: 'om_1', locale: 'en' } as WatchedCard;
const snapshot: TaskSnapshot = {
  ref: { app: 'feishu', platform: 'feishu', kind: 'contact', id: 'c1' },
  state: 'partial',
  label: 'add_user',
  fetchedAt: new Date(0),
};

describe('Export failed items: the hold on the card', () => {
  let store: Store | undefined;
  afterEach(async () => {
    vi.useRealTimers();
    await store?.close();
  });

  /** Deps whose failed-rows fetches wait at `gates`, one each, with the files posted and the log kept. */
  function exportDeps(s: Store, clock: ManualClock, gates: ReturnType<typeof latch>[]) {
    let fetches = 0;
    const files: string[] = [];
    const lines: string[] = [];
    const deps: ExportDeps = {
      cards: { described: async () => ({ card, snapshot }) },
      registry: {
        async failedRows() {
          const g = gates[fetches++]!;
          g.enter();
          await g.opened;
          return [{ name: 'x', ok: false }];
        },
      },
      messengers: { feishu: Object.assign(new RecordingMessenger(), { sendFile: async (_c: unknown, _f: unknown, key: string) => void files.push(key) }) },
      clock,
      store: s,
      logger: pino({ level: 'info' }, { write: (l: string) => void lines.push(l) }),
    };
    return { deps, files, lines };
  }

  it('the hold is renewed while the file is made: a press after the first lease would have run out is still told it is on its way', async () => {
    ({ store } = await freshStore('sqlite'));
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const clock = new ManualClock(1_000_000);
    const gates = [latch()];
    const { deps, files } = exportDeps(store, clock, gates);
    expect(await startExport(deps, card.card_key, 'press-1')).toBe('started');
    await gates[0]!.reached;
    await clock.advance(EXPORT_LEASE_MS / 2);
    vi.advanceTimersByTime(EXPORT_LEASE_MS / 3);
    const expiry = () => store!.db.selectFrom('dedupe').select('expires_at').where('key', '=', `export:${card.card_key}`).executeTakeFirst();
    await until('the hold renewed', async () => (await expiry())?.expires_at === clock.now() + EXPORT_LEASE_MS, 5000);
    await clock.advance(EXPORT_LEASE_MS / 2 + 1000);
    expect(await startExport(deps, card.card_key, 'press-2')).toBe('busy');
    gates[0]!.open();
    await until('the file', () => files.length > 0, 5000);
    // Posted: let go at once, the next press makes a new file.
    await until('let go', async () => !(await expiry()), 5000);
    expect(files).toEqual(['export:press-1']);
  });

  it('an export stalled past its hold, which a later press took, posts no file: only the later one does', async () => {
    ({ store } = await freshStore('sqlite'));
    const clock = new ManualClock(1_000_000);
    const gates = [latch(), latch()];
    const { deps, files, lines } = exportDeps(store, clock, gates);
    expect(await startExport(deps, card.card_key, 'press-1')).toBe('started');
    await gates[0]!.reached;
    expect(await startExport(deps, card.card_key, 'press-2')).toBe('busy');
    // This process stalls (a long GC, SIGSTOP) past the lease: nothing renews the hold, and a press elsewhere takes it.
    await clock.advance(EXPORT_LEASE_MS + 1);
    expect(await startExport(deps, card.card_key, 'press-3')).toBe('started');
    await gates[1]!.reached;
    gates[0]!.open();
    await until('the stalled export ends', () => files.length > 0 || lines.some((l) => l.includes('lost the export to another press')), 5000);
    expect(files).toEqual([]);
    gates[1]!.open();
    await until('the file', () => files.length > 0, 5000);
    expect(files).toEqual(['export:press-3']);
  });
});

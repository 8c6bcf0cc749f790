import { randomUUID } from 'node:crypto';
import { noticeCard } from '../cards/notices.js';
import type { CardHandle, Messenger } from '../domain/chat.js';
import { asTaskbotError } from '../domain/errors.js';
import { failedRowsCsv } from '../domain/failed-rows-csv.js';
import { KINDS_WITH_ROWS, type TaskRef } from '../domain/task.js';
import { cardTexts } from '../i18n/card-texts.js';
import { errorLine, fill } from '../i18n/messages.js';
import type { Locale } from '../domain/locale.js';
import { LeaseKeeper } from '../domain/lease-keeper.js';
import type { TaskRegistry } from '../providers/registry.js';
import type { Store } from '../store/store.js';
import type { CardStore } from '../store/cards.js';
import type { CommandDeps } from './deps.js';

export type ExportStart = 'started' | 'busy' | 'recent' | 'unknown' | 'unsupported';

/** A file just posted answers the presses of the next minute: a crowd pressing Export gets one file, not one each. */
export const EXPORT_COOLDOWN_MS = 60_000;

/** How long a card's export is held, renewed while its file is made: a dead replica's hold lapses this soon. */
export const EXPORT_LEASE_MS = 15_000;

export type ExportDeps = Pick<CommandDeps, 'messengers' | 'logger' | 'clock'> & {
  cards: Pick<CardStore, 'described'>;
  registry: Pick<TaskRegistry, 'failedRows'>;
  store: Pick<Store, 'inbox'>;
};

/**
 * The Export failed items button: answered at once, the file follows as a reply to the card
 * (every row the upstream lists, as CSV), or a notice saying why there is none. `key` names the
 * press, so a redelivered one is posted once where the platform dedupes. One file per card at a
 * time, whichever replicas the presses reach: the export is held in the store until its file is
 * posted (or it failed), and a press meanwhile is told the file is on its way.
 */
export async function startExport(deps: ExportDeps, cardKey: string, key: string): Promise<ExportStart> {
  const w = await deps.cards.described(cardKey);
  if (!w?.snapshot) return 'unknown';
  const messenger = deps.messengers[w.card.app];
  if (!messenger?.sendFile || !KINDS_WITH_ROWS.includes(w.snapshot.ref.kind)) return 'unsupported';
  const hold = `export:${cardKey}`;
  const posted = `export-posted:${cardKey}`;
  if (await deps.store.inbox.held(posted, deps.clock.now())) return 'recent';
  // This export's own, not the replica's: letting go can never free another export's hold.
  const owner = randomUUID();
  const asked = deps.clock.mono();
  if (!(await deps.store.inbox.hold(hold, owner, deps.clock.now(), EXPORT_LEASE_MS))) return 'busy';
  const lease = new LeaseKeeper({
    leaseMs: EXPORT_LEASE_MS,
    clock: deps.clock,
    renew: (keys, until) => deps.store.inbox.renewHolds(keys, owner, until),
    what: 'exports being made',
    ...(deps.logger && { logger: deps.logger }),
  });
  lease.hold(hold, asked);
  lease.start();
  const handle: CardHandle = { app: w.card.app, platform: w.card.platform, chatId: w.card.chat_id, handle: w.card.handle };
  void exportFile(deps, messenger, handle, w.snapshot.ref, w.card.locale, key, () => lease.ensure(hold))
    .then(async (sent) => {
      if (sent) await deps.store.inbox.claim([posted], deps.clock.now(), EXPORT_COOLDOWN_MS);
    })
    .finally(() => {
      lease.stop();
      return deps.store.inbox.letGo(hold, owner);
    })
    .catch((e: unknown) => deps.logger?.warn({ err: asTaskbotError(e).toJSON(), card: cardKey }, 'could not let go of the export; it lapses on its own'));
  return 'started';
}

/**
 * Fetches every failed row, writes the CSV and posts it, unless the hold was lost meanwhile (this
 * process stalled past its lease and another press took over); any failure is told in the chat,
 * under the card.
 */
async function exportFile(
  deps: Pick<ExportDeps, 'registry' | 'logger'>,
  messenger: Messenger,
  handle: CardHandle,
  ref: TaskRef,
  locale: Locale,
  key: string,
  stillHeld: () => Promise<boolean>,
): Promise<boolean> {
  const t = cardTexts(locale);
  const tell = (text: string) => messenger.send(handle, noticeCard(locale, text, { color: 'orange', type: 'error' }), { messageId: handle.handle });
  try {
    const rows = await deps.registry.failedRows(ref);
    if (rows.length === 0) {
      await tell(fill(t.exportNoRows, { id: ref.id }));
      return false;
    }
    const bytes = failedRowsCsv(rows, { name: t.csvName, id: t.csvId, code: t.csvCode, message: t.csvMessage, email: t.csvEmail, mobile: t.csvMobile });
    const limit = messenger.maxFileBytes ?? Infinity;
    if (bytes.byteLength > limit) {
      await tell(fill(t.exportTooLarge, { mb: mb(bytes.byteLength), limit: mb(limit) }));
      return false;
    }
    if (!(await stillHeld())) {
      deps.logger?.warn({ card: handle.handle }, 'lost the export to another press while making it; its file is not posted here');
      return false;
    }
    await messenger.sendFile!(handle, { name: `failed-${ref.kind}-${ref.id}.csv`, bytes }, `export:${key}`);
    return true;
  } catch (e) {
    const err = asTaskbotError(e);
    deps.logger?.warn({ code: err.code, err: err.toJSON(), card: handle.handle }, 'export of failed items failed');
    await tell(fill(t.exportError, { reason: errorLine(err, locale) })).catch((e2: unknown) =>
      deps.logger?.error({ err: asTaskbotError(e2).toJSON(), card: handle.handle }, 'could not tell the chat that the export failed'),
    );
    return false;
  }
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1).replace(/\.0$/, '');

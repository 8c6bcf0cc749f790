import { noticeCard } from '../cards/notices.js';
import type { CardHandle, Messenger } from '../domain/chat.js';
import { asTaskbotError } from '../domain/errors.js';
import { failedRowsCsv } from '../domain/failed-rows-csv.js';
import { KINDS_WITH_ROWS, type TaskRef } from '../domain/task.js';
import { cardTexts } from '../i18n/card-texts.js';
import { fill, messages, type Locale } from '../i18n/messages.js';
import type { CommandDeps } from './context.js';

export type ExportStart = 'started' | 'busy' | 'unknown' | 'unsupported';

/** Cards whose file is being made in this process: a second press waits for the first. */
const inFlight = new Set<string>();

/**
 * The Export failed items button: answered at once, the file follows as a reply to the card
 * (every row the upstream lists, as CSV), or a notice saying why there is none. `key` names the
 * press, so a redelivered one is posted once where the platform dedupes.
 */
export async function startExport(deps: Pick<CommandDeps, 'engine' | 'registry' | 'messengers' | 'logger'>, cardKey: string, key: string): Promise<ExportStart> {
  const w = await deps.engine.describe(cardKey);
  if (!w?.snapshot) return 'unknown';
  const messenger = deps.messengers[w.card.platform];
  if (!messenger?.sendFile || !KINDS_WITH_ROWS.includes(w.snapshot.ref.kind)) return 'unsupported';
  if (inFlight.has(cardKey)) return 'busy';
  inFlight.add(cardKey);
  const handle: CardHandle = { platform: w.card.platform, chatId: w.card.chat_id, handle: w.card.handle };
  void exportFile(deps, messenger, handle, w.snapshot.ref, w.card.locale, key).finally(() => inFlight.delete(cardKey));
  return 'started';
}

/** Fetches every failed row, writes the CSV and posts it; any failure is told in the chat, under the card. */
async function exportFile(deps: Pick<CommandDeps, 'registry' | 'logger'>, messenger: Messenger, handle: CardHandle, ref: TaskRef, locale: Locale, key: string): Promise<void> {
  const t = cardTexts(locale);
  const tell = (text: string) => messenger.send(handle, noticeCard(locale, text, { color: 'orange', type: 'error' }), { messageId: handle.handle });
  try {
    const rows = await deps.registry.failedRows(ref);
    if (rows.length === 0) return void (await tell(fill(t.exportNoRows, { id: ref.id })));
    const bytes = failedRowsCsv(rows, { name: t.csvName, id: t.csvId, code: t.csvCode, message: t.csvMessage, email: t.csvEmail, mobile: t.csvMobile });
    const limit = messenger.maxFileBytes ?? Infinity;
    if (bytes.byteLength > limit) return void (await tell(fill(t.exportTooLarge, { mb: mb(bytes.byteLength), limit: mb(limit) })));
    await messenger.sendFile!(handle, { name: `failed-${ref.kind}-${ref.id}.csv`, bytes }, `export:${key}`);
  } catch (e) {
    const err = asTaskbotError(e);
    deps.logger?.warn({ code: err.code, err: err.toJSON(), card: handle.handle }, 'export of failed items failed');
    const m = messages(locale);
    await tell(fill(t.exportError, { reason: `${m.error[err.code]} (${err.details.errorId ?? err.code})` })).catch((e2: unknown) =>
      deps.logger?.error({ err: asTaskbotError(e2).toJSON(), card: handle.handle }, 'could not tell the chat that the export failed'),
    );
  }
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1).replace(/\.0$/, '');

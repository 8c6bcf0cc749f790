import { parseCommand } from '../commands/parse.js';
import { readStatusArgs } from '../commands/status.js';
import { clip } from '../domain/card.js';
import { asTaskbotError } from '../domain/errors.js';
import type { InboundCommand } from '../domain/inbound.js';
import { cardTexts } from '../i18n/card-texts.js';
import { fill, messages } from '../i18n/messages.js';
import type { AdmitDeps } from './inbound.js';

/**
 * A submitted Track a task form: what `status` would refuse before asking anyone (no id, stray
 * words, an id of no kind's shape) is told in the toast, so the form stays filled to fix it;
 * anything else is the `status` command itself, kept and answered like a typed one.
 */
export async function trackForm(cmd: InboundCommand, keys: string[], deps: AdmitDeps, accept: (cmd: InboundCommand, keys: string[], deps: AdmitDeps) => Promise<void>): Promise<{ ok: boolean; toast: string }> {
  const { settings, chats, registry } = deps.commands;
  const locale = (await chats.get({ platform: cmd.platform, chatId: cmd.chatId }).catch(() => undefined))?.locale ?? settings.locale;
  const parsed = parseCommand(cmd.text);
  const read = readStatusArgs('args' in parsed ? parsed.args : [], locale);
  if ('problem' in read) return { ok: false, toast: read.problem };
  try {
    registry.candidates({ platform: cmd.platform, id: read.id, ...(read.kind && { kind: read.kind }) });
  } catch (e) {
    const err = asTaskbotError(e);
    return { ok: false, toast: `${messages(locale).error[err.code]} (${err.message})` };
  }
  await accept(cmd, keys, deps);
  return { ok: true, toast: fill(cardTexts(locale).toastTracking, { id: clip(read.id, 64) }) };
}

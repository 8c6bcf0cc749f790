import { parseCommand } from './parse.js';
import { readStatusArgs } from './status.js';
import { may, person, refusalText } from './rights.js';
import { clip } from '../domain/card.js';
import { asTaskbotError } from '../domain/errors.js';
import type { AppFormSubmission, InboundCommand } from '../domain/inbound-port.js';
import { cardTexts } from '../i18n/card-texts.js';
import { errorLine, fill } from '../i18n/messages.js';
import type { Clock } from '../domain/clock.js';
import type { CommandDeps, PressLimit } from './deps.js';

type Answer = { ok: boolean; toast: string };

export interface FormDeps {
  commands: CommandDeps;
  clock: Clock;
  presses: PressLimit;
  /** Keeps the command to be answered as a typed one is (admission/accept.ts). */
  keep(cmd: InboundCommand, keys: string[]): Promise<void>;
}

/**
 * A submitted Track a task form. It acts only in the chat the platform says, or (DingTalk) the
 * chat taskbot delivered it to; the task is looked up within `budgetMs`, so a wrong id, an unknown
 * task or a missing permission is told in the toast, with the form still filled to fix it. A task
 * found, or a lookup still running at the deadline, makes it the `status` command itself, kept
 * and answered like a typed one (its read joins this one: no second upstream call).
 */
export async function trackForm(form: AppFormSubmission, budgetMs: number, deps: FormDeps): Promise<Answer> {
  const { settings, chats, registry } = deps.commands;
  const placed = await formChat(form, deps);
  if ('refused' in placed) return { ok: false, toast: cardTexts(settings.of(form.cmd.app).locale)[placed.refused] };
  const { cmd } = placed;
  const chat = { app: cmd.app, platform: cmd.platform, chatId: cmd.chatId };
  const locale = (await chats.get(chat).catch(() => undefined))?.locale ?? settings.of(cmd.app).locale;
  const t = cardTexts(locale);
  if (deps.presses.check(cmd.app, cmd.chatId, cmd.userId, deps.clock.mono()) !== 'ok') return { ok: false, toast: t.toastSlowDown };
  const v = await may(deps.commands, { action: 'read', actor: person(cmd.userId), chat: { ...chat, ...(cmd.chatType && { chatType: cmd.chatType }) } });
  if (!v.ok) return { ok: false, toast: refusalText(locale, v.refusal, cmd.chatId) };
  const parsed = parseCommand(cmd.text);
  const read = readStatusArgs('args' in parsed ? parsed.args : [], locale);
  if ('problem' in read) return { ok: false, toast: read.problem };
  const lookup = registry
    .fetch({
      app: cmd.app,
      platform: cmd.platform,
      id: read.id,
      ...(read.kind && { kind: read.kind }),
      ...(cmd.operator && { operatorOf: cmd.operator }),
      interactive: true,
    })
    .then(
      () => undefined,
      (e: unknown) => asTaskbotError(e),
    );
  // Still looking at the deadline: the command goes on, and its answer (or error) replies to the form.
  const failed = await Promise.race([lookup, deps.clock.sleep(budgetMs).then(() => undefined)]);
  if (failed) return { ok: false, toast: errorLine(failed, locale) };
  await deps.keep(cmd, form.keys);
  return { ok: true, toast: fill(t.toastTracking, { id: clip(read.id, 64) }) };
}

/** The command in the chat it acts in: the platform's word, or the chat its form card was delivered to. */
async function formChat(form: AppFormSubmission, deps: FormDeps): Promise<{ cmd: InboundCommand } | { refused: 'formOutdated' | 'formOtherChat' }> {
  // A submission nobody is named for cannot be taken (the platform always names who submits).
  if (!form.cmd.userId) return { refused: 'formOutdated' };
  if (!form.delivered) return { cmd: form.cmd };
  const sent = await deps.commands.forms?.get(form.delivered);
  if (!sent || sent.app !== form.cmd.app) return { refused: 'formOutdated' };
  // What the client says of its chat must agree, and a 1:1 chat's form is its person's alone.
  if ((form.cmd.chatId !== '' && form.cmd.chatId !== sent.chat_id) || (sent.for_user !== null && sent.for_user !== form.cmd.userId))
    return { refused: 'formOtherChat' };
  return { cmd: { ...form.cmd, chatId: sent.chat_id, chatType: sent.for_user === null ? 'group' : 'p2p' } };
}

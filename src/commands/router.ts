import { errorCard, noticeCard } from '../cards/notices.js';
import { asTaskbotError } from '../domain/errors.js';
import { fill } from '../i18n/messages.js';
import { cardTexts } from '../i18n/card-texts.js';
import type { Answer, CommandDeps, HandlerInput, InboundCommand, RoutedAnswer } from './deps.js';
import { refusedFor } from './rights.js';
import { digestCommand } from './digest.js';
import { helpCard } from './help.js';
import { listCommand, mineCommand } from './list.js';
import { parseCommand, type CommandName } from './parse.js';
import { reportsCommand } from './reports.js';
import { statusCommand } from './status.js';
import { stopCommand } from './stop.js';
import { chatidCommand, langCommand, notifyCommand, pinCommand, settingsCommand } from './chat-settings.js';
import { messengerOf } from '../domain/chat.js';
import { startWatch } from './start-watch.js';
import type { ChatSettings } from '../store/chat-settings.js';

const HANDLERS: Record<CommandName, (i: HandlerInput) => Promise<Answer>> = {
  status: statusCommand,
  list: listCommand,
  mine: mineCommand,
  stop: stopCommand,
  pin: pinCommand,
  reports: reportsCommand,
  digest: digestCommand,
  notify: notifyCommand,
  lang: langCommand,
  settings: settingsCommand,
  chatid: chatidCommand,
  help: async ({ locale, cmd }) => ({ card: helpCard(locale, cmd.platform) }),
};

/** Decides the answer to one command: allowlist first, then the handler. Never throws. */
export async function answer(cmd: InboundCommand, deps: CommandDeps): Promise<RoutedAnswer> {
  const chat = { app: cmd.app, platform: cmd.platform, chatId: cmd.chatId };
  // The chat's own settings; when the store cannot say, the operator's defaults still answer.
  const prefs = await deps.chats.get(chat).catch((e: unknown): ChatSettings => {
    deps.logger?.warn({ err: asTaskbotError(e).toJSON(), chat: cmd.chatId }, 'chat settings unreadable; using the defaults');
    return {};
  });
  const locale = prefs.locale ?? deps.settings.of(cmd.app).locale;
  const parsed = parseCommand(cmd.text);
  const command = parsed.command === 'empty' || parsed.command === 'unknown' ? 'help' : parsed.command;
  // Anyone in a chat the allowlist admits may read; each handler asks the policy for more.
  const refused = await refusedFor({ cmd, chat, locale, prefs, deps }, 'read');
  if (refused) return { command, ...refused };
  if (cmd.unsupported && parsed.command === 'empty') {
    return { command: 'not_text', card: noticeCard(locale, fill(cardTexts(locale).textOnly, { type: cmd.unsupported }), { color: 'grey' }) };
  }
  if (parsed.command === 'empty') return { command, card: helpCard(locale, cmd.platform) };
  if (parsed.command === 'unknown') return { command, card: helpCard(locale, cmd.platform, parsed) };
  try {
    return { command, ...(await HANDLERS[parsed.command]({ cmd, args: parsed.args, chat, locale, prefs, deps })) };
  } catch (e) {
    // A handler that fails (the store is down, a bug) still answers: an error card, never a throw.
    const err = asTaskbotError(e);
    deps.logger?.error({ code: err.code, err: err.toJSON(), command, chat: cmd.chatId }, 'command handler failed');
    return { command, card: errorCard(err, locale) };
  }
}

/**
 * Answers a command in its chat and starts watching the card when the answer is a live task.
 * `guard` is asked right before the answer goes out (it throws when the command is no longer this
 * process's to answer).
 */
export async function handleCommand(cmd: InboundCommand, deps: CommandDeps, guard?: () => Promise<void>): Promise<void> {
  const a = await answer(cmd, deps);
  const outcome = a.denied ? 'denied' : a.card.type === 'error' ? 'error' : 'ok';
  const chat = { app: cmd.app, platform: cmd.platform, chatId: cmd.chatId };
  try {
    await guard?.();
    if (a.track) {
      await startWatch(deps, {
        chat,
        snap: a.track,
        card: a.card,
        reply: cmd.reply,
        origin: { askedBy: cmd.userId },
        ...(a.subscribe && { waiting: [cmd.userId] }),
      });
    } else {
      const handle = await messengerOf(deps.messengers, cmd.app).send(chat, a.card, cmd.reply);
      if (handle.form) await recordForm(deps, cmd, handle.form);
    }
    deps.telemetry?.command(a.command, outcome);
  } catch (e) {
    deps.telemetry?.command(a.command, 'failed');
    throw e;
  }
}

/** A form is taken later from the chat it went to only: unrecorded, its submissions are refused. */
async function recordForm(deps: CommandDeps, cmd: InboundCommand, formKey: string): Promise<void> {
  const row = {
    form_key: formKey,
    app: cmd.app,
    platform: cmd.platform,
    chat_id: cmd.chatId,
    for_user: cmd.chatType === 'p2p' ? cmd.userId : null,
    created_at: deps.clock.now(),
  };
  await deps.forms
    ?.add(row)
    .catch((e: unknown) =>
      deps.logger?.error({ err: asTaskbotError(e).toJSON(), chat: cmd.chatId }, 'could not record a form card; its submissions will be refused'),
    );
}

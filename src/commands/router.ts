import { noticeCard } from '../cards/notices.js';
import { fill } from '../i18n/messages.js';
import { cardTexts } from '../i18n/card-texts.js';
import { chatAllowed, type Answer, type CommandDeps, type HandlerInput, type InboundCommand, type RoutedAnswer } from './context.js';
import { digestCommand } from './digest.js';
import { helpCard } from './help.js';
import { listCommand } from './list.js';
import { parseCommand, type CommandName } from './parse.js';
import { reportsCommand } from './reports.js';
import { statusCommand } from './status.js';
import { stopCommand } from './stop.js';

const HANDLERS: Record<CommandName, (i: HandlerInput) => Promise<Answer>> = {
  status: statusCommand,
  list: listCommand,
  stop: stopCommand,
  reports: reportsCommand,
  digest: digestCommand,
  help: async ({ locale }) => ({ card: helpCard(locale) }),
};

/** Decides the answer to one command: allowlist first, then the handler. Never throws. */
export async function answer(cmd: InboundCommand, deps: CommandDeps): Promise<RoutedAnswer> {
  const locale = deps.settings.locale;
  const chat = { platform: cmd.platform, chatId: cmd.chatId };
  const parsed = parseCommand(cmd.text);
  const command = parsed.command === 'empty' || parsed.command === 'unknown' ? 'help' : parsed.command;
  if (!chatAllowed(deps.settings, cmd.chatId)) {
    return { command, denied: true, card: noticeCard(locale, fill(cardTexts(locale).notAllowed, { chat: cmd.chatId }), { color: 'orange', type: 'error' }) };
  }
  if (cmd.unsupported && parsed.command === 'empty') {
    return { command: 'not_text', card: noticeCard(locale, fill(cardTexts(locale).textOnly, { type: cmd.unsupported }), { color: 'grey' }) };
  }
  if (parsed.command === 'empty') return { command, card: helpCard(locale) };
  if (parsed.command === 'unknown') return { command, card: helpCard(locale, parsed) };
  return { command, ...(await HANDLERS[parsed.command]({ cmd, args: parsed.args, chat, locale, deps })) };
}

/** Answers a command in its chat and starts watching the card when the answer is a live task. */
export async function handleCommand(cmd: InboundCommand, deps: CommandDeps): Promise<void> {
  const a = await answer(cmd, deps);
  const outcome = a.denied ? 'denied' : a.card.type === 'error' ? 'error' : 'ok';
  try {
    const messenger = deps.messengers[cmd.platform];
    if (!messenger) throw new Error(`no messenger for ${cmd.platform}`);
    const handle = await messenger.send({ platform: cmd.platform, chatId: cmd.chatId }, a.card, cmd.reply);
    if (a.track) await deps.engine.track(handle, a.track, deps.settings.locale, a.card);
    deps.telemetry?.command(a.command, outcome);
  } catch (e) {
    deps.telemetry?.command(a.command, 'failed');
    throw e;
  }
}

import { noticeCard } from '../cards/notices.js';
import { fill } from '../i18n/messages.js';
import { cardTexts } from '../i18n/card-texts.js';
import { clip } from '../domain/card.js';
import type { StopRule } from '../domain/policy.js';
import { parseStatusArgs } from './parse.js';
import type { Answer, HandlerInput } from './deps.js';
import { may, person, refusedFor } from './rights.js';

/** `stop anyone` / `stop asker` (and their Chinese words): the chat's rule of who may stop its cards. */
const RULES: ReadonlyMap<string, StopRule> = new Map(
  Object.entries({ anyone: 'anyone', all: 'anyone', 任何人: 'anyone', 所有人: 'anyone', asker: 'asker', 发起人: 'asker' } satisfies Record<string, StopRule>),
);

/**
 * `stop <id> [kind]` or `stop <kind> <id>` (parsed like status): stop updating that task's cards in
 * this chat, those the sender may stop; `stop anyone|asker` (admins, the group's owner and
 * managers) sets who may.
 */
export async function stopCommand(input: HandlerInput): Promise<Answer> {
  const { args, chat, locale, deps, cmd, prefs } = input;
  const t = cardTexts(locale);
  const rule = args.length === 1 ? RULES.get(args[0]!.toLowerCase()) : undefined;
  if (rule) {
    const refused = await refusedFor(input, 'set-stop-rule');
    if (refused) return refused;
    await deps.chats.set(chat, { stopRule: rule });
    return { card: noticeCard(locale, rule === 'anyone' ? t.stopRuleAnyone : t.stopRuleAsker, { color: 'green' }) };
  }
  const { id, kind, notify, extra } = parseStatusArgs(args);
  if (notify) extra.push('notify');
  if (!id) return { card: noticeCard(locale, t.missingId, { color: 'orange', type: 'error' }) };
  if (extra.length > 0) return { card: noticeCard(locale, fill(t.stopUsage, { input: clip(extra.join(' '), 40) }), { color: 'orange', type: 'error' }) };
  let refused = 0;
  const n = await deps.watch.stopInChat(chat, id, kind, async (c) => {
    const place = { ...chat, ...(cmd.chatType && { chatType: cmd.chatType }) };
    const ok = (
      await may(deps, {
        action: 'stop',
        actor: person(cmd.userId),
        chat: place,
        card: { askedBy: c.asked_by },
        ...(prefs.stopRule && { stopRule: prefs.stopRule }),
      })
    ).ok;
    if (!ok) refused++;
    return ok;
  });
  if (refused > 0) {
    const text = [n > 0 ? fill(t.stopDone, { n }) : '', fill(t.stopRefused, { n: refused })].filter(Boolean).join('\n');
    return { card: noticeCard(locale, text, { color: 'orange', type: 'error' }) };
  }
  return { card: noticeCard(locale, n > 0 ? fill(t.stopDone, { n }) : fill(t.stopNone, { id: id.slice(0, 64) }), { color: n > 0 ? 'grey' : 'orange' }) };
}

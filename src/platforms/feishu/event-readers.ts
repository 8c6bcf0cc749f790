import { z } from 'zod';
import type { PlatformCommand } from '../../domain/inbound-port.js';
import { loose, looseArray, looseObject, parseJsonText } from '../lenient.js';
import { TrackFormValues, trackFormText } from '../form-values.js';

const UserIds = looseObject({ open_id: loose.string, user_id: loose.string, union_id: loose.string });

/**
 * The fields of im.message.receive_v1 we use (the SDK hands header and event merged). Lenient:
 * ids are often null (no employee-id scope), and fields come and go; only the message and chat
 * ids, which say what to answer where, are required.
 */
export const MessageEvent = z.object({
  event_id: loose.string,
  tenant_key: loose.string,
  sender: looseObject({ sender_id: UserIds, sender_type: loose.string }),
  message: z.object({
    message_id: loose.id,
    chat_id: loose.id,
    chat_type: loose.string,
    message_type: loose.string,
    content: loose.string,
    mentions: looseArray(looseObject({ key: loose.string, id: UserIds, name: loose.string, mentioned_type: loose.string })),
  }),
});
export type MessageEvent = z.output<typeof MessageEvent>;

export type ReadResult = { cmd?: PlatformCommand; keys: string[] } | { issue: string };

/**
 * Reads a delivered message: the command for us (undefined when it is not addressed to us) and
 * the ids to dedupe it by, or why it could not be read at all. Never throws.
 */
export function readMessage(data: unknown, botOpenId: string): ReadResult {
  const parsed = MessageEvent.safeParse(data);
  if (!parsed.success) return { issue: `${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}` };
  const ev = parsed.data;
  return { cmd: toInbound(ev, botOpenId), keys: [`feishu:msg:${ev.message.message_id}`, ...(ev.event_id ? [`feishu:event:${ev.event_id}`] : [])] };
}

/**
 * A message for us, as a neutral command: group messages only when they mention the bot,
 * 1:1 messages always; mention placeholders (and @_all) removed. Undefined when not for us.
 */
export function toInbound(ev: MessageEvent, botOpenId: string): PlatformCommand | undefined {
  const m = ev.message;
  const sender = ev.sender;
  if (sender?.sender_type && sender.sender_type !== 'user') return undefined; // other bots, system
  const p2p = m.chat_type === 'p2p';
  const mentionsBot = botOpenId !== '' && m.mentions.some((x) => x?.id?.open_id === botOpenId);
  if (!p2p && !mentionsBot) return undefined;
  const type = m.message_type ?? 'text';
  const read = messageText(type, m.content ?? '');
  let text = read ?? '';
  for (const x of m.mentions) if (x?.key) text = text.split(x.key).join(' ');
  text = text
    .replace(/@_all\b/g, ' ')
    .replace(/@_user_\d+/g, ' ')
    .trim();
  const ids = sender?.sender_id;
  return {
    platform: 'feishu',
    ...(ev.tenant_key && { tenant: ev.tenant_key }),
    chatId: m.chat_id,
    chatType: p2p ? 'p2p' : 'group',
    userId: ids?.open_id ?? ids?.union_id ?? ids?.user_id ?? '',
    text,
    ...(read === undefined && { unsupported: type }),
    reply: { messageId: m.message_id, idempotencyKey: `feishu:${m.message_id}` },
  };
}

/**
 * The text of a message: text and post (rich text: its text, md and link parts; at-mentions are
 * placeholders, skipped) and, leniently, any other type that carries a `text` field. Undefined
 * for a message that holds no text (a picture, a file, a sticker): it is answered "I read text only".
 */
export function messageText(type: string, content: string): string | undefined {
  const c = parseJsonText(content) as Record<string, unknown> | undefined;
  if (type === 'post') {
    // A post is {title, content: [[{tag, text}]]}, sometimes wrapped per language.
    const post = (c?.content ? c : c && typeof c === 'object' ? Object.values(c)[0] : undefined) as { content?: unknown } | undefined;
    const rows = post?.content;
    if (!Array.isArray(rows)) return '';
    return rows
      .flatMap((row) => (Array.isArray(row) ? row : []))
      .map((seg: { tag?: unknown; text?: unknown }) => (['text', 'md', 'a'].includes(String(seg?.tag)) && typeof seg.text === 'string' ? seg.text : ''))
      .join(' ');
  }
  if (typeof c?.text === 'string') return c.text;
  return type === 'text' ? '' : undefined;
}

/** The fields of card.action.trigger we use; `value` is what our button put there (or its JSON text). */
export const CardActionEvent = z.object({
  event_id: loose.string,
  token: loose.string,
  operator: looseObject({ open_id: loose.string, user_id: loose.string, union_id: loose.string }),
  action: looseObject({
    value: z
      .unknown()
      .transform((v) => (typeof v === 'string' ? parseJsonText(v) : v))
      .optional(),
    tag: loose.string,
    form_value: z.unknown().optional(),
  }),
  context: z.object({ open_message_id: loose.id, open_chat_id: loose.string }),
});
export type CardActionEvent = z.output<typeof CardActionEvent>;

/**
 * A submitted Track a task form as the `status` command it stands for, answered as a reply to the
 * card that carried the form; undefined when the event holds no form values.
 */
export function trackFormCommand(ev: CardActionEvent): { cmd: PlatformCommand; keys: string[] } | undefined {
  const f = TrackFormValues.safeParse(ev.action?.form_value ?? undefined);
  const chatId = ev.context.open_chat_id;
  if (!f.success || !chatId) return undefined;
  const key = `feishu:form:${ev.event_id ?? ev.context.open_message_id}`;
  return {
    cmd: {
      platform: 'feishu',
      chatId,
      userId: ev.operator?.open_id ?? '',
      text: trackFormText(f.data),
      reply: { messageId: ev.context.open_message_id, idempotencyKey: key },
    },
    keys: [key],
  };
}

/** application.bot.menu_v6 (the SDK hands header and event merged): who clicked which menu item. */
const MenuEvent = z.object({
  event_id: loose.string,
  event_key: loose.string,
  operator: looseObject({ operator_id: UserIds }),
});

/** The menu items taskbot answers (their keys are set in the developer console), as the commands they stand for. */
export const MENU_COMMANDS: Readonly<Record<string, string>> = { track: 'help', my_tasks: 'mine' };

/**
 * A bot menu click as a command answered to the clicker in their 1:1 chat (the event names no
 * chat: the answer goes to their open_id). An item we do not know is answered with help, not silence.
 */
export function menuCommand(data: unknown): { cmd: PlatformCommand; keys: string[] } | { issue: string } {
  const p = MenuEvent.safeParse(data);
  const user = p.success ? p.data.operator?.operator_id?.open_id : undefined;
  if (!p.success || !user)
    return { issue: p.success ? 'operator.operator_id.open_id missing' : `${p.error.issues[0]?.path.join('.')}: ${p.error.issues[0]?.message}` };
  const key = `feishu:menu:${p.data.event_id ?? `${user}:${p.data.event_key}`}`;
  const text = MENU_COMMANDS[p.data.event_key ?? ''] ?? 'help';
  return { cmd: { platform: 'feishu', chatId: user, chatType: 'p2p', userId: user, text, reply: { idempotencyKey: key } }, keys: [key] };
}

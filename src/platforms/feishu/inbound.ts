import { z } from 'zod';
import type { InboundCommand } from '../../commands/context.js';

/** The fields of im.message.receive_v1 we use (the SDK hands header and event merged). */
export const MessageEvent = z.object({
  event_id: z.string().optional(),
  sender: z.object({ sender_id: z.object({ open_id: z.string().optional(), user_id: z.string().optional() }).optional(), sender_type: z.string().optional() }),
  message: z.object({
    message_id: z.string(),
    chat_id: z.string(),
    chat_type: z.string(),
    message_type: z.string(),
    content: z.string(),
    mentions: z.array(z.object({ key: z.string(), id: z.object({ open_id: z.string().optional() }).partial().optional(), name: z.string().optional() })).optional(),
  }),
});
export type MessageEvent = z.output<typeof MessageEvent>;

/**
 * A message for us, as a neutral command: group messages only when they mention the bot,
 * 1:1 messages always; mention placeholders (and @_all) removed. Undefined when not for us.
 */
export function toInbound(ev: MessageEvent, botOpenId: string): InboundCommand | undefined {
  const m = ev.message;
  if (ev.sender.sender_type && ev.sender.sender_type !== 'user') return undefined; // other bots, system
  const p2p = m.chat_type === 'p2p';
  const mentionsBot = (m.mentions ?? []).some((x) => x.id?.open_id === botOpenId);
  if (!p2p && !mentionsBot) return undefined;
  let text = messageText(m.message_type, m.content);
  for (const x of m.mentions ?? []) text = text.split(x.key).join(' ');
  text = text.replace(/@_all\b/g, ' ').replace(/@_user_\d+/g, ' ').trim();
  return {
    platform: 'feishu',
    chatId: m.chat_id,
    chatType: p2p ? 'p2p' : 'group',
    userId: ev.sender.sender_id?.open_id ?? ev.sender.sender_id?.user_id ?? '',
    text,
    reply: { messageId: m.message_id, idempotencyKey: `feishu:${m.message_id}` },
  };
}

/** Text of a text or post (rich text) message; other kinds carry no command. */
export function messageText(type: string, content: string): string {
  let c: unknown;
  try {
    c = JSON.parse(content);
  } catch {
    return '';
  }
  if (type === 'text') return typeof (c as { text?: unknown }).text === 'string' ? (c as { text: string }).text : '';
  if (type === 'post') {
    // A post is {title, content: [[{tag, text}]]}, sometimes wrapped per language.
    const post = (c as { content?: unknown }).content ? c : Object.values(c as object)[0];
    const rows = (post as { content?: unknown } | undefined)?.content;
    if (!Array.isArray(rows)) return '';
    return rows
      .flatMap((row) => (Array.isArray(row) ? row : []))
      .map((seg: { tag?: string; text?: string }) => (seg.tag === 'text' || seg.tag === 'md' ? (seg.text ?? '') : ''))
      .join(' ');
  }
  return '';
}

/** The fields of card.action.trigger we use. */
export const CardActionEvent = z.object({
  event_id: z.string().optional(),
  token: z.string().optional(),
  operator: z.object({ open_id: z.string().optional() }).optional(),
  action: z.object({ value: z.unknown() }),
  context: z.object({ open_message_id: z.string(), open_chat_id: z.string().optional() }),
});
export type CardActionEvent = z.output<typeof CardActionEvent>;

import { z } from 'zod';
import type { PlatformCommand } from '../../domain/inbound-port.js';
import { loose, looseObject, parseJsonText } from '../lenient.js';
import { USER_CHAT_PREFIX } from './messenger.js';

/**
 * A robot message (any msgtype), read leniently: only the message and conversation ids are
 * required; everything else may be missing, null, or a number where a string is documented.
 */
const RobotMessage = z.object({
  msgId: loose.id,
  conversationId: loose.id,
  conversationType: loose.string,
  chatbotCorpId: loose.string,
  senderStaffId: loose.string,
  senderId: loose.string,
  msgtype: loose.string,
  text: looseObject({ content: loose.string }),
  content: z.unknown().optional(),
  sessionWebhook: loose.string,
  sessionWebhookExpiredTime: loose.number,
});
type RobotMessage = z.output<typeof RobotMessage>;

export type ReadResult = { cmd?: PlatformCommand; keys: string[] } | { issue: string };

/** Reads a robot message (the Stream frame's `data` text): the command, or why it could not be read. Never throws. */
export function readRobotMessage(data: string, deps: { unionIdOf: (staffId: string) => Promise<string> }): ReadResult {
  const parsed = RobotMessage.safeParse(parseJsonText(data));
  if (!parsed.success) return { issue: `${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}` };
  return { cmd: toInbound(parsed.data, deps), keys: [`dingtalk:msg:${parsed.data.msgId}`] };
}

/** A robot message as a neutral command; 1:1 chats are keyed by the person. */
export function toInbound(m: RobotMessage, deps: { unionIdOf: (staffId: string) => Promise<string> }): PlatformCommand | undefined {
  const staffId = m.senderStaffId;
  const p2p = m.conversationType === '1';
  if (p2p && !staffId) return undefined; // nobody to answer
  const text = robotText(m);
  return {
    platform: 'dingtalk',
    ...(m.chatbotCorpId && { tenant: m.chatbotCorpId }),
    chatId: p2p ? `${USER_CHAT_PREFIX}${staffId}` : m.conversationId,
    chatType: p2p ? 'p2p' : 'group',
    userId: staffId ?? m.senderId ?? '',
    text: (text ?? '').trim(),
    ...(text === undefined && { unsupported: m.msgtype ?? 'unknown' }),
    reply: {
      messageId: m.msgId,
      idempotencyKey: `dingtalk:${m.msgId}`,
      ...(m.sessionWebhook && { sessionWebhook: m.sessionWebhook, sessionWebhookExpiresAt: m.sessionWebhookExpiredTime ?? 0 }),
    },
    ...(staffId && { operator: () => deps.unionIdOf(staffId) }),
  };
}

/**
 * What a person said: text, the text parts of rich text, the recognised speech of a voice
 * message. Undefined for a message that holds no words (a picture, a file, a video).
 */
export function robotText(m: Pick<RobotMessage, 'msgtype' | 'text' | 'content'>): string | undefined {
  const type = m.msgtype ?? 'text';
  const content = (typeof m.content === 'object' && m.content !== null ? m.content : {}) as { richText?: unknown; recognition?: unknown };
  if (type === 'text') return m.text?.content ?? '';
  if (type === 'richText' && Array.isArray(content.richText)) {
    return content.richText
      .map((p: { text?: unknown }) => (typeof p?.text === 'string' ? p.text : ''))
      .filter(Boolean)
      .join(' ');
  }
  if (type === 'audio' && typeof content.recognition === 'string') return content.recognition;
  return undefined;
}

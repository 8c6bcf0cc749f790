import { z } from 'zod';
import type { InboundCommand } from '../../domain/inbound.js';
import { DINGTALK_PARAM_MAX_BYTES } from '../../cards/dingtalk.js';
import { loose, parseJsonText } from '../lenient.js';
import { TrackFormValues, trackFormText } from '../track-form.js';
import { USER_CHAT_PREFIX } from './messenger.js';

/**
 * A card callback (topic /v1.0/card/instances/callback), read leniently: which card, who, and
 * `content` — a JSON text (or already an object) holding `cardPrivateData` with the `actionIds`
 * and `params` the pressed component sent.
 */
const CardCallback = z.object({ outTrackId: loose.id, userId: loose.string, content: z.unknown().optional() });

export interface CallbackRead {
  outTrackId: string;
  userId?: string;
  actionIds: unknown[];
  params: Record<string, unknown>;
}

export function readCardCallback(data: string): CallbackRead | undefined {
  const p = CardCallback.safeParse(parseJsonText(data));
  if (!p.success) return undefined;
  const c = (typeof p.data.content === 'string' ? parseJsonText(p.data.content) : p.data.content) as { cardPrivateData?: { actionIds?: unknown; params?: unknown } } | undefined;
  const d = c?.cardPrivateData;
  const params = typeof d?.params === 'object' && d.params !== null ? (d.params as Record<string, unknown>) : {};
  return { outTrackId: p.data.outTrackId, ...(p.data.userId && { userId: p.data.userId }), actionIds: Array.isArray(d?.actionIds) ? d.actionIds : [], params };
}

export type FormSubmission =
  | { cmd: InboundCommand; keys: string[]; values: Record<string, unknown> }
  /** A form that names no chat, or another person's 1:1 chat: it is not acted on. */
  | { outdated: true };

/**
 * Our form template's submission (`params.form`: the values by field name, as the card
 * platform's Form component sends them) as the `status` command it stands for; undefined when the
 * callback is not a form's. The chat is the form's hidden field (the callback does not name the
 * conversation); a form in a person's chat with the robot is only taken from that person.
 */
export function readFormSubmission(cb: CallbackRead, deliveryId: string): FormSubmission | undefined {
  const raw = typeof cb.params.form === 'string' ? parseJsonText(cb.params.form) : cb.params.form;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const values = raw as Record<string, unknown>;
  const chatId = typeof values.chat === 'string' ? values.chat : '';
  const p2p = chatId.startsWith(USER_CHAT_PREFIX);
  if (!chatId || !cb.userId || (p2p && chatId !== `${USER_CHAT_PREFIX}${cb.userId}`)) return { outdated: true };
  const key = `dingtalk:form:${deliveryId}`;
  return {
    cmd: { platform: 'dingtalk', chatId, chatType: p2p ? 'p2p' : 'group', userId: cb.userId, text: trackFormText(TrackFormValues.parse(values)), reply: { messageId: cb.outTrackId, idempotencyKey: key } },
    keys: [key],
    values,
  };
}

/**
 * The form as sent (`params.current_form`) with what the person entered as its defaults, so it
 * stays filled when the client draws it again (as the official example 表单组件的使用与更新 does);
 * undefined when it cannot be read or would not fit a template value.
 */
export function refilledForm(params: Record<string, unknown>, values: Record<string, unknown>): string | undefined {
  const current = typeof params.current_form === 'string' ? parseJsonText(params.current_form) : params.current_form;
  const fields = (current as { fields?: unknown } | undefined)?.fields;
  if (!Array.isArray(fields)) return undefined;
  const filled = fields.map((f: unknown) => {
    if (typeof f !== 'object' || f === null) return f;
    const name = (f as { name?: unknown }).name;
    return typeof name === 'string' && name in values ? { ...f, defaultValue: values[name] } : f;
  });
  const text = JSON.stringify({ ...(current as object), fields: filled });
  return Buffer.byteLength(text) <= DINGTALK_PARAM_MAX_BYTES ? text : undefined;
}

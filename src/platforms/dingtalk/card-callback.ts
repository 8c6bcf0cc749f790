import { z } from 'zod';
import type { FormSubmission } from '../../domain/inbound-port.js';
import { DINGTALK_PARAM_MAX_BYTES } from '../../cards/dingtalk.js';
import { loose, parseJsonText } from '../lenient.js';
import { TrackFormValues, trackFormText } from '../form-values.js';

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
  const c = (typeof p.data.content === 'string' ? parseJsonText(p.data.content) : p.data.content) as
    | { cardPrivateData?: { actionIds?: unknown; params?: unknown } }
    | undefined;
  const d = c?.cardPrivateData;
  const params = typeof d?.params === 'object' && d.params !== null ? (d.params as Record<string, unknown>) : {};
  return { outTrackId: p.data.outTrackId, ...(p.data.userId && { userId: p.data.userId }), actionIds: Array.isArray(d?.actionIds) ? d.actionIds : [], params };
}

/**
 * Our form template's submission (`params.form`: the values by field name, as the card
 * platform's Form component sends them) as the `status` command it stands for, with the delivery
 * it answers (the chat is the one taskbot delivered that form card to: the callback names no
 * conversation, and the hidden `chat` field is only the client's word); undefined when the
 * callback is not a form's.
 */
export function readFormSubmission(
  cb: CallbackRead,
  deliveryId: string,
  operatorOf: (staffId: string) => Promise<string>,
): (FormSubmission & { values: Record<string, unknown> }) | undefined {
  const raw = typeof cb.params.form === 'string' ? parseJsonText(cb.params.form) : cb.params.form;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const values = raw as Record<string, unknown>;
  const userId = cb.userId ?? '';
  const key = `dingtalk:form:${deliveryId}`;
  return {
    cmd: {
      platform: 'dingtalk',
      chatId: typeof values.chat === 'string' ? values.chat : '',
      userId,
      text: trackFormText(TrackFormValues.parse(values)),
      reply: { messageId: cb.outTrackId, idempotencyKey: key },
      // Storage tasks are read as the person, as a typed command is.
      ...(userId && { operator: () => operatorOf(userId) }),
    },
    keys: [key],
    delivered: `dingtalk:${cb.outTrackId}`,
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

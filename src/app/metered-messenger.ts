import type { Messenger } from '../domain/chat.js';
import { asTaskbotError } from '../domain/errors.js';
import type { AppLabel, CardWriteOp, Telemetry } from '../domain/telemetry.js';

/** A messenger that counts every card write and its outcome; the writes themselves are unchanged. */
export function meteredMessenger(app: AppLabel, m: Messenger, t: Pick<Telemetry, 'cardWrite'>): Messenger {
  const count = async <T>(op: CardWriteOp, write: () => Promise<T>): Promise<T> => {
    try {
      const r = await write();
      t.cardWrite(app, op, 'ok');
      return r;
    } catch (e) {
      t.cardWrite(app, op, asTaskbotError(e).code);
      throw e;
    }
  };
  return {
    dedupesRepeats: m.dedupesRepeats,
    send: (chat, card, reply) => count('send', () => m.send(chat, card, reply)),
    update: (handle, card, lane) => count('update', () => m.update(handle, card, lane)),
    sendDigest: (chat, card, key) => count('digest', () => m.sendDigest(chat, card, key)),
    mention: (card, users, text, key) => count('mention', () => m.mention(card, users, text, key)),
    ...(m.readyAt && { readyAt: m.readyAt.bind(m) }),
    ...(m.chatRoles && { chatRoles: m.chatRoles.bind(m) }),
    ...(m.maxFileBytes !== undefined && { maxFileBytes: m.maxFileBytes }),
    ...(m.pin && { pin: m.pin.bind(m) }),
    ...(m.unpin && { unpin: m.unpin.bind(m) }),
    ...(m.cannotPin && { cannotPin: m.cannotPin.bind(m) }),
    ...(m.sendFile && { sendFile: (card, file, key) => count('file', () => m.sendFile!(card, file, key)) }),
  };
}

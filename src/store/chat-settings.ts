import type { Logger } from 'pino';
import { chatKey, type ChatRef } from '../domain/chat.js';
import { asTaskbotError } from '../domain/errors.js';
import type { Locale } from '../domain/locale.js';
import type { StopRule } from '../domain/policy.js';
import type { Store } from './store.js';

/** What a chat chose for itself; an absent field follows the operator's default. */
export interface ChatSettings {
  locale?: Locale;
  notifyDefault?: boolean;
  stopRule?: StopRule;
  /** Live cards pinned while their task runs. */
  pin?: boolean;
  /** Why the platform refused to pin here (told once); null clears it. */
  pinBlocked?: string | null;
}

export async function getChatSettings(store: Store, chat: ChatRef): Promise<ChatSettings> {
  // Read for every command and button: prepared (see prepared.ts).
  const { db, prepared } = store;
  const [row] = (
    await prepared.run(db, 'getChatSettings', [chatKey(chat)], (key) =>
      db.selectFrom('chat_settings').select(['locale', 'notify_default', 'stop_rule', 'pin', 'pin_blocked']).where('chat_key', '=', key),
    )
  ).rows;
  return {
    ...(row?.locale && { locale: row.locale }),
    ...(row?.notify_default !== null && row?.notify_default !== undefined && { notifyDefault: row.notify_default === 1 }),
    ...(row?.stop_rule && { stopRule: row.stop_rule }),
    ...(row?.pin === 1 && { pin: true }),
    ...(row?.pin_blocked && { pinBlocked: row.pin_blocked }),
  };
}

/** Writes the given settings of one chat, leaving the others as they are. */
export async function setChatSettings(store: Store, chat: ChatRef, patch: ChatSettings, now: number): Promise<void> {
  const set = {
    ...(patch.locale && { locale: patch.locale }),
    ...(patch.notifyDefault !== undefined && { notify_default: patch.notifyDefault ? 1 : 0 }),
    ...(patch.stopRule && { stop_rule: patch.stopRule }),
    ...(patch.pin !== undefined && { pin: patch.pin ? 1 : 0 }),
    ...(patch.pinBlocked !== undefined && { pin_blocked: patch.pinBlocked }),
    updated_at: now,
  };
  await store.db
    .insertInto('chat_settings')
    .values({
      chat_key: chatKey(chat),
      app: chat.app,
      platform: chat.platform,
      chat_id: chat.chatId,
      locale: null,
      notify_default: null,
      stop_rule: null,
      pin: null,
      pin_blocked: null,
      ...set,
    })
    .onConflict((oc) => oc.column('chat_key').doUpdateSet(set))
    .execute();
}

/** Pinning in this chat waits for the admin (`problem`): true only for the first to say so, who tells the chat. */
export async function blockPins(store: Store, chat: ChatRef, problem: string, now: number): Promise<boolean> {
  const r = await store.db
    .updateTable('chat_settings')
    .set({ pin_blocked: problem, updated_at: now })
    .where('chat_key', '=', chatKey(chat))
    .where('pin_blocked', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/**
 * A chat's language: its own (`lang`), else `fallback` (the operator's, or what a digest was set
 * in); when the store cannot say, `fallback` too, logged. The one rule every answer follows.
 */
export async function chatLocale(prefs: { get(chat: ChatRef): Promise<ChatSettings> }, chat: ChatRef, fallback: Locale, logger?: Logger): Promise<Locale> {
  try {
    return (await prefs.get(chat)).locale ?? fallback;
  } catch (e) {
    logger?.warn({ err: asTaskbotError(e).toJSON(), chat: chat.chatId }, "the chat's language could not be read; answering in the default");
    return fallback;
  }
}

/** The per-chat settings of the store, as commands use them. */
export function chatPrefs(store: Store, now: () => number) {
  return {
    get: (chat: ChatRef) => getChatSettings(store, chat),
    set: (chat: ChatRef, patch: ChatSettings) => setChatSettings(store, chat, patch, now()),
  };
}

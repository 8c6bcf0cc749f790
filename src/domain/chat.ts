import type { ChatRoles } from './policy.js';
import { TaskbotError } from './errors.js';
import type { CardModel } from './card.js';
import type { Platform } from './task.js';

/** A chat of one app (DESIGN §8): chat ids, like user ids, are only compared within their app. */
export interface ChatRef {
  app: string;
  platform: Platform;
  chatId: string;
}

/** A card we can update later: a Feishu message_id or a DingTalk outTrackId. */
export interface CardHandle extends ChatRef {
  handle: string;
  /** Platform delivery facts kept with the handle (e.g. DingTalk markdown fallback). */
  meta?: Record<string, unknown>;
  /** taskbot has it pinned in its chat now (an update keeps a DingTalk top box in step). */
  pinned?: boolean;
  /**
   * A form card sent with it whose submissions will not say which chat they come from (DingTalk):
   * its key (`app:handle`), to be recorded with this chat.
   */
  form?: string;
}

/** Why pins cannot be turned on in a chat: the platform has none for bots, wants a template, or pins in groups only. */
export type PinRefusal = 'unsupported' | 'needs-template' | 'groups-only';

/** `app:handle`; the single-app variables' apps are named for their platform, so older keys stay theirs. */
export function cardKey(h: Pick<CardHandle, 'app' | 'handle'>): string {
  return `${h.app}:${h.handle}`;
}

/**
 * A key a platform receiver made in its platform's namespace (`feishu:msg:om_1`, a card's
 * `dingtalk:<outTrackId>`) moved into its app's (`hq:msg:om_1`): two apps of one tenant receive the
 * same message and each answers it once. The single-app variables' apps keep their keys.
 */
export function appKey(app: { id: string; platform: Platform }, platformKey: string): string {
  const prefix = `${app.platform}:`;
  return `${app.id}:${platformKey.startsWith(prefix) ? platformKey.slice(prefix.length) : platformKey}`;
}

/** `app:chatId` (see cardKey). */
export function chatKey(c: Pick<ChatRef, 'app' | 'chatId'>): string {
  return `${c.app}:${c.chatId}`;
}

/** What the command being answered came with, so a reply can thread to it and stay idempotent. */
export interface ReplyContext {
  messageId?: string;
  /** A key unique to the inbound event: a redelivered event must not post twice. */
  idempotencyKey?: string;
  /** DingTalk: the message's session webhook while it is valid. */
  sessionWebhook?: string;
  sessionWebhookExpiresAt?: number;
}

/**
 * What a write is worth, highest first, when the platform's budget is short: answers to people
 * (replies, a button's follow-up), final states (and the mentions they owe), cards someone
 * looked at recently (and digests), then progress.
 */
export const SEND_LANES = ['people', 'final', 'interest', 'progress'] as const;
export type SendLane = (typeof SEND_LANES)[number];
export const laneRank = (l: SendLane): number => SEND_LANES.indexOf(l);

/** The outgoing side of a platform (docs/architecture.md). Sends are people's answers; updates say their lane. */
export interface Messenger {
  /**
   * Whether the platform takes a write repeated with the same key once (Feishu's `uuid`, for an
   * hour): a mention whose outcome is unknown may then be sent again; otherwise it never is.
   */
  readonly dedupesRepeats: boolean;
  send(chat: ChatRef, card: CardModel, reply?: ReplyContext): Promise<CardHandle>;
  update(handle: CardHandle, card: CardModel, lane?: SendLane): Promise<void>;
  /** `key` names the firing: a repeat of it is taken once where the platform dedupes. */
  sendDigest(chat: ChatRef, card: CardModel, key?: string): Promise<void>;
  /**
   * Mentions `userIds` (platform user ids the platform gave us) in the card's chat with a short
   * plain `text`, pointing at the card. `key` is the same for a repeat of the same mention, so a
   * platform that dedupes sends posts it once.
   */
  mention(card: CardHandle, userIds: string[], text: string, key: string): Promise<void>;
  /**
   * When the platform's outbound queue could start a card update of `lane` (absent: any time);
   * `hold`: writes the lanes below the final states leave to finals expected within the minute.
   */
  readyAt?(lane: SendLane, hold?: number): number;
  /**
   * The group's owner and managers (absent: the platform does not tell a bot). Throws when it
   * cannot say now (a missing scope, the platform down).
   */
  chatRoles?(chatId: string): Promise<ChatRoles>;
  /**
   * Posts a file as a reply to the card (absent: the platform cannot post files as this bot). `key`
   * names the request: a repeat is posted once where the platform dedupes.
   */
  sendFile?(card: CardHandle, file: { name: string; bytes: Uint8Array }, key: string): Promise<void>;
  /** The largest file sendFile takes. */
  readonly maxFileBytes?: number;
  /**
   * Pins the card in its chat, and takes the pin off again (absent: the platform has no pins for
   * bots). `model`: what the card shows now (DingTalk's top box is a card of its own).
   */
  pin?(card: CardHandle, model: CardModel): Promise<void>;
  unpin?(card: CardHandle): Promise<void>;
  /** Why pins cannot work in this chat now (absent or undefined: they can wherever pin is). */
  cannotPin?(chat: ChatRef): PinRefusal | undefined;
}

/** Each served app's messenger, by app id. */
export type Messengers = Readonly<Record<string, Messenger>>;

/** The messenger of an app, or NOT_CONFIGURED: the one way every sender finds it. */
export function messengerOf(messengers: Messengers, app: string): Messenger {
  const m = Object.hasOwn(messengers, app) ? messengers[app] : undefined;
  if (!m) throw new TaskbotError('NOT_CONFIGURED', `the app "${app}" is not configured on this taskbot`, { app });
  return m;
}

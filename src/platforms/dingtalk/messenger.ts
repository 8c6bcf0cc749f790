import { createHash, randomUUID } from 'node:crypto';
import { renderCardParams, renderFormParams, renderTopBoxParams } from '../../cards/dingtalk.js';
import { noticeCard } from '../../cards/notices.js';
import { renderMarkdown } from '../../cards/markdown.js';
import type { CardModel, TrackForm } from '../../domain/card.js';
import type { CardHandle, ChatRef, Messenger, PinRefusal, ReplyContext, SendLane } from '../../domain/chat.js';
import { asTaskbotError, TaskbotError } from '../../domain/errors.js';
import { WATCH_GIVE_UP_MS } from '../../watch/backoff.js';
import { cardTexts } from '../../i18n/card-texts.js';
import { fill } from '../../i18n/messages.js';
import type { Locale } from '../../domain/locale.js';
import type { DingtalkApi } from './api-client.js';
import { markdownText } from '../../cards/sanitize.js';
import { isPlatformUserId } from '../../domain/user-id.js';

/** 1:1 chats are keyed by the person: `user:<staffId>`; groups by their openConversationId. */
export const USER_CHAT_PREFIX = 'user:';

export interface DingtalkMessengerOptions {
  robotCode: string;
  /** The imported card template; without it, answers are markdown messages. */
  cardTemplateId?: string;
  /** The imported top-box (吊顶) template: live cards are pinned as a top box; without it, no pins. */
  topBoxTemplateId?: string;
  /** The imported Track a task form template: `help` is followed by the form; without it, no form. */
  formTemplateId?: string;
  now?: () => number;
  /** Told when cards cannot be created (wrong template id, missing card permission), for the log. */
  onCardsBroken?: (err: TaskbotError) => void;
  /** Told when a pinned card's top box could not be brought in step for good (closed, expired), for the log. */
  onTopBoxLost?: (err: TaskbotError, outTrackId: string) => void;
  /** Told when help's form could not be sent (the chat is told too), for the log. */
  onFormFailed?: (err: TaskbotError) => void;
}

/** A top box outlives its task by at most this: it is closed when the task ends, this only covers a taskbot that never comes back. */
const TOP_BOX_GRACE_MS = 60 * 60_000;

/** How long answers stay markdown after the template or the card permission failed. */
const CARD_RETRY_AFTER_MS = 10 * 60_000;

/**
 * Cards in DingTalk chats: with a template, interactive cards created with callbackType STREAM and
 * updated in place; without one, markdown replies (session webhook while valid, else the robot
 * send APIs) and one more message when the task ends.
 */
export class DingtalkMessenger implements Messenger {
  /** Robot messages carry no idempotency key: a mention that may have gone out is never repeated. */
  readonly dedupesRepeats = false;
  /** After the template or the card permission failed, markdown until then. */
  private cardsBrokenUntil = 0;
  /** Chats already told what the admin must fix. */
  private readonly toldChats = new Set<string>();

  constructor(
    private readonly api: DingtalkApi,
    private readonly o: DingtalkMessengerOptions,
  ) {}

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  /** A task card keeps the asking message's session webhook: the one way to @ people in a group later. */
  async send(chat: ChatRef, card: CardModel, reply?: ReplyContext): Promise<CardHandle> {
    const sent = await this.sendOrFallBack(chat, card, reply);
    const form = card.form && this.o.formTemplateId ? await this.sendForm(chat, card.form, card.locale, reply) : undefined;
    const h = form ? { ...sent, form: `dingtalk:${form}` } : sent;
    if (card.type !== 'task' || !reply?.sessionWebhook) return h;
    return { ...h, meta: { ...h.meta, sessionWebhook: reply.sessionWebhook, sessionWebhookExpiresAt: reply.sessionWebhookExpiresAt ?? 0 } };
  }

  private async sendOrFallBack(chat: ChatRef, card: CardModel, reply?: ReplyContext): Promise<CardHandle> {
    if (!this.o.cardTemplateId || card.type !== 'task' || this.now() < this.cardsBrokenUntil) return this.sendMarkdown(chat, card, reply);
    try {
      return await this.createCard(chat, card, this.o.cardTemplateId, reply?.idempotencyKey);
    } catch (e) {
      const err = asTaskbotError(e);
      if (err.code !== 'NOT_CONFIGURED' && err.code !== 'PERMISSION_DENIED') throw err;
      // The template or the card permission is wrong: answer in markdown all the same, and tell
      // the admin what to fix (in the log and, once, in the chat); cards are not tried for a while.
      this.cardsBrokenUntil = this.now() + CARD_RETRY_AFTER_MS;
      this.o.onCardsBroken?.(err);
      const tellChat = !this.toldChats.has(chat.chatId);
      this.toldChats.add(chat.chatId);
      const scopes = err.details.scopes?.join(', ') ?? 'Card.Instance.Write';
      const fix = fill(cardTexts(card.locale).cardsBroken, { code: err.code, scopes });
      return this.sendMarkdown(chat, tellChat ? { ...card, note: card.note ? `${card.note}\n${fix}` : fix } : card, reply);
    }
  }

  private async sendMarkdown(chat: ChatRef, card: CardModel, reply?: ReplyContext): Promise<CardHandle> {
    await this.markdown(chat, card, reply);
    return { ...chat, handle: `md-${randomUUID()}`, meta: { markdown: true } };
  }

  /** `key`: a repeat of the same answer (a retried request, a command answered again after a crash) names the same card instance. */
  private async createCard(chat: ChatRef, card: CardModel, cardTemplateId: string, key?: string): Promise<CardHandle> {
    const outTrackId = outTrackIdOf(key);
    await this.api.createAndDeliverCard({
      cardTemplateId,
      outTrackId,
      callbackType: 'STREAM',
      cardData: { cardParamMap: renderCardParams(card) },
      ...this.openSpace(chat),
    });
    return { ...chat, handle: outTrackId };
  }

  /**
   * Where a card goes: the person's chat with the robot, or the group. Not forwardable: a card's
   * buttons and form act on the chat it was delivered to, and DingTalk's callbacks do not say
   * which chat a press came from, so a forwarded copy would act here for people who are not.
   */
  private openSpace(chat: ChatRef): Record<string, unknown> {
    const user = userOf(chat.chatId);
    return user
      ? { openSpaceId: `dtv1.card//IM_ROBOT.${user}`, imRobotOpenSpaceModel: { supportForward: false }, imRobotOpenDeliverModel: { spaceType: 'IM_ROBOT' } }
      : {
          openSpaceId: `dtv1.card//IM_GROUP.${chat.chatId}`,
          imGroupOpenSpaceModel: { supportForward: false },
          imGroupOpenDeliverModel: { robotCode: this.o.robotCode },
        };
  }

  /**
   * Help's Track a task form: a card of its own after the usage (a template value holds 1 KB, the
   * usage does not fit one); resolves with its outTrackId. The answer has gone out already, so a
   * form that cannot be sent never fails it: the chat is told why in a line, and the log.
   */
  private async sendForm(chat: ChatRef, form: TrackForm, locale: Locale, reply?: ReplyContext): Promise<string | undefined> {
    try {
      const outTrackId = outTrackIdOf(reply?.idempotencyKey && `${reply.idempotencyKey}:form`);
      await this.api.createAndDeliverCard({
        cardTemplateId: this.o.formTemplateId,
        outTrackId,
        callbackType: 'STREAM',
        cardData: { cardParamMap: renderFormParams(form, chat.chatId) },
        ...this.openSpace(chat),
      });
      return outTrackId;
    } catch (e) {
      const err = asTaskbotError(e);
      this.o.onFormFailed?.(err);
      const told = noticeCard(locale, fill(cardTexts(locale).formFailed, { code: err.code }), { color: 'orange' });
      await this.markdown(chat, told, reply).catch((e2: unknown) => this.o.onFormFailed?.(asTaskbotError(e2)));
      return undefined;
    }
  }

  async update(handle: CardHandle, card: CardModel, lane?: SendLane): Promise<void> {
    if (!handle.meta?.markdown) await this.api.updateCard(handle.handle, renderCardParams(card), lane);
    // A markdown answer cannot change: only the end of the task is worth one more message.
    else if (card.final) await this.markdown(handle, card, undefined, lane);
    // The top box follows the card while it runs (the end closes it). One that can no longer be
    // updated (closed, expired) must not end the card: told to the log; passing failures throw,
    // so the round tries the whole update again.
    if (!handle.pinned || card.final || !this.o.topBoxTemplateId) return;
    const id = topBoxId(handle.handle);
    await this.api.updateCard(id, renderTopBoxParams(card), lane).catch((e: unknown) => {
      const err = asTaskbotError(e);
      if (err.retryable) throw err;
      this.o.onTopBoxLost?.(err, id);
    });
  }

  /**
   * Pins are the group's top box (吊顶): a second card instance from the top-box template,
   * delivered to the ONE_BOX open space and kept in step by update(). DingTalk has no other pin
   * for robots; 1:1 chats have no top box.
   */
  cannotPin(chat: ChatRef): PinRefusal | undefined {
    if (!this.o.topBoxTemplateId) return 'needs-template';
    return userOf(chat.chatId) ? 'groups-only' : undefined;
  }

  async pin(card: CardHandle, model: CardModel): Promise<void> {
    const refusal = this.cannotPin(card);
    if (refusal) throw new TaskbotError('NOT_CONFIGURED', `no top box in ${card.chatId}: ${refusal}`, { platform: 'dingtalk' });
    await this.api.createAndDeliverCard(
      {
        cardTemplateId: this.o.topBoxTemplateId,
        outTrackId: topBoxId(card.handle),
        callbackType: 'STREAM',
        cardData: { cardParamMap: renderTopBoxParams(model) },
        openSpaceId: `dtv1.card//ONE_BOX.${card.chatId}`,
        imGroupOpenDeliverModel: { robotCode: this.o.robotCode },
        topOpenSpaceModel: { spaceType: 'ONE_BOX' },
        topOpenDeliverModel: { expiredTimeMillis: this.now() + WATCH_GIVE_UP_MS + TOP_BOX_GRACE_MS },
      },
      'final',
    );
  }

  /** Closes the top box for everyone in the group (only the bot closes it: a person's close is their own). */
  async unpin(card: CardHandle): Promise<void> {
    await this.api.closeTopBox({ openConversationId: card.chatId, outTrackId: topBoxId(card.handle), robotCode: this.o.robotCode });
  }

  readyAt(lane: SendLane, hold?: number): number {
    return this.api.cardUpdateReadyAt(lane, hold);
  }

  sendDigest(chat: ChatRef, card: CardModel): Promise<void> {
    return this.markdown(chat, card, undefined, 'interest');
  }

  /**
   * In a group, a real @ needs a session webhook (the robot send APIs cannot mention): the card's,
   * while it is valid. Past that the people are told in their 1:1 chat with the robot instead.
   */
  async mention(card: CardHandle, userIds: string[], text: string): Promise<void> {
    const ids = userIds.filter(isPlatformUserId);
    const title = text.slice(0, 60);
    const user = userOf(card.chatId);
    const hook = typeof card.meta?.sessionWebhook === 'string' ? card.meta.sessionWebhook : undefined;
    const valid = hook !== undefined && Number(card.meta?.sessionWebhookExpiresAt ?? 0) > this.now() + 5_000;
    if (!user && valid) return this.api.sessionMarkdown(hook, { title, text: `${ids.map((id) => `@${id}`).join(' ')} ${markdownText(text)}` }, ids);
    for (let i = 0; i < ids.length; i += 20)
      await this.api.robotMarkdown(this.o.robotCode, { users: ids.slice(i, i + 20) }, { title, text: markdownText(text) }, 'final');
  }

  private async markdown(chat: ChatRef, card: CardModel, reply?: ReplyContext, lane?: SendLane): Promise<void> {
    const md = renderMarkdown(card);
    if (reply?.sessionWebhook && (reply.sessionWebhookExpiresAt ?? 0) > this.now() + 5_000) {
      return this.api.sessionMarkdown(reply.sessionWebhook, md);
    }
    const user = userOf(chat.chatId);
    return this.api.robotMarkdown(this.o.robotCode, user ? { users: [user] } : { group: chat.chatId }, md, lane);
  }
}

function outTrackIdOf(key: string | undefined): string {
  return key ? `tb-${createHash('sha256').update(key).digest('hex').slice(0, 40)}` : `tb-${randomUUID()}`;
}

/** The top box of a card is its own card instance, named after the card's (idempotent: a repeated pin names the same one). */
function topBoxId(outTrackId: string): string {
  return `${outTrackId}-top`;
}

function userOf(chatId: string): string | undefined {
  return chatId.startsWith(USER_CHAT_PREFIX) ? chatId.slice(USER_CHAT_PREFIX.length) : undefined;
}

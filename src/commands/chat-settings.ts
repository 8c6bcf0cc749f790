import { noticeCard } from '../cards/notices.js';
import type { CardModel } from '../domain/card.js';
import { fill } from '../i18n/messages.js';
import type { Locale } from '../domain/locale.js';
import { cardTexts } from '../i18n/card-texts.js';
import type { Answer, HandlerInput } from './deps.js';
import { may, person, refusedFor } from './rights.js';
import { parseSwitch } from './parse.js';

const LOCALES: ReadonlyMap<string, Locale> = new Map(
  Object.entries({ zh: 'zh', cn: 'zh', 中文: 'zh', en: 'en', english: 'en', 英文: 'en' } satisfies Record<string, Locale>),
);

const usage = (locale: Locale, text: string): Answer => ({ card: noticeCard(locale, text, { color: 'orange', type: 'error' }) });

/** `notify on|off`: every `status` asker in this chat is told when the task ends (or not); `notify` alone shows it. */
export async function notifyCommand(input: HandlerInput): Promise<Answer> {
  const { args, chat, locale, prefs, deps } = input;
  const t = cardTexts(locale);
  if (args.length === 0) return { card: noticeCard(locale, `${fill(t.notifyCurrent, { state: prefs.notifyDefault ? t.on : t.off })}\n${t.notifyUsage}`) };
  const on = parseSwitch(args[0]);
  if (on === undefined || args.length > 1) return usage(locale, t.notifyUsage);
  const refused = await refusedFor(input, 'configure');
  if (refused) return refused;
  await deps.chats.set(chat, { notifyDefault: on });
  return { card: noticeCard(locale, on ? t.notifyOn : t.notifyOff, { color: on ? 'green' : 'grey' }) };
}

/**
 * `pin on|off` (admins): live cards of this chat pinned while their task runs; `pin on` also lifts
 * a refusal recorded earlier (the admin says the scope is granted now). `pin` alone shows it.
 */
export async function pinCommand(input: HandlerInput): Promise<Answer> {
  const { args, chat, locale, prefs, deps } = input;
  const t = cardTexts(locale);
  if (args.length === 0)
    return { card: noticeCard(locale, `${t.settingPin}: ${prefs.pin ? t.on : t.off}${prefs.pinBlocked ? ` (${prefs.pinBlocked})` : ''}\n${t.pinUsage}`) };
  const on = parseSwitch(args[0]);
  if (on === undefined || args.length > 1) return usage(locale, t.pinUsage);
  const refused = await refusedFor(input, 'configure');
  if (refused) return refused;
  const m = deps.messengers[chat.app];
  const refusal = !m?.pin ? 'unsupported' : m.cannotPin?.(chat);
  if (on && refusal) return usage(locale, { unsupported: t.pinUnsupported, 'needs-template': t.pinNeedsTemplate, 'groups-only': t.pinGroupsOnly }[refusal]);
  await deps.chats.set(chat, { pin: on, pinBlocked: null });
  return { card: noticeCard(locale, on ? t.pinOn : t.pinOff, { color: on ? 'green' : 'grey' }) };
}

/** `lang zh|en`: this chat's language for cards, errors and digests; answered in the new language. */
export async function langCommand(input: HandlerInput): Promise<Answer> {
  const { args, chat, locale, deps } = input;
  const next = args.length === 1 ? LOCALES.get(args[0]!.toLowerCase()) : undefined;
  if (!next) return usage(locale, cardTexts(locale).langUsage);
  const refused = await refusedFor(input, 'configure');
  if (refused) return refused;
  await deps.chats.set(chat, { locale: next });
  return { card: noticeCard(next, cardTexts(next).langSet, { color: 'green' }) };
}

/** `settings`: the chat's language, digest schedule, notify default and pins, and its rights as the policy sees them. */
export async function settingsCommand({ cmd, chat, locale, prefs, deps }: HandlerInput): Promise<Answer> {
  const t = cardTexts(locale);
  const digest = await deps.digests.get(chat);
  const admins = deps.settings.of(chat.app).adminUserIds.length;
  const rolesUnknown = Object.hasOwn(deps.messengers, chat.app) && deps.messengers[chat.app]?.chatRoles ? '' : t.rolesUnknown;
  // What the sender may do here, asked of the policy itself (someone else's card stands for "others'").
  const place = { ...chat, ...(cmd.chatType && { chatType: cmd.chatType }) };
  const yours = await Promise.all(
    (
      [
        [t.rightConfigure, 'configure'],
        [t.rightStopRule, 'set-stop-rule'],
        [t.rightStopOthers, 'stop'],
      ] as const
    ).map(async ([label, action]) => {
      const v = await may(deps, {
        action,
        actor: person(cmd.userId),
        chat: place,
        card: { askedBy: `${cmd.userId}\u0000someone else` },
        ...(prefs.stopRule && { stopRule: prefs.stopRule }),
      });
      return `${label} ${v.ok ? t.rightYes : t.rightNo}`;
    }),
  );
  const card: CardModel = {
    type: 'notice',
    locale,
    title: t.settingsTitle,
    color: 'blue',
    blocks: [
      {
        type: 'fields',
        fields: [
          // Its own app's: rights, lists and settings mean nothing in another app (DESIGN §8).
          { label: t.settingApp, value: `${chat.app} (${chat.platform})` },
          { label: t.settingLang, value: cardTexts(locale).langName },
          { label: t.settingDigest, value: digest ? `${digest.spec} (${digest.time_zone})` : t.notSet },
          { label: t.settingNotify, value: prefs.notifyDefault ? t.on : t.off },
          { label: t.settingPin, value: `${prefs.pin ? t.on : t.off}${prefs.pinBlocked ? ` (${prefs.pinBlocked})` : ''}` },
        ],
      },
      { type: 'text', text: t.settingRights },
      {
        type: 'fields',
        fields: [
          { label: t.rightStop, value: `${prefs.stopRule === 'anyone' ? t.rightStopAnyone : t.rightStopAsker}${rolesUnknown}` },
          { label: t.rightConfigure, value: admins > 0 ? fill(t.rightConfigureAdmins, { n: admins }) : t.rightConfigureAnyone },
          { label: t.rightStopRule, value: `${fill(t.rightStopRuleWho, { n: admins })}${rolesUnknown}` },
          { label: t.rightYou, value: yours.join(' · ') },
        ],
      },
    ],
  };
  return { card };
}

/** `chatid`: this chat's id, and the line a script pastes to post a live card here. */
export async function chatidCommand({ chat, locale, deps }: HandlerInput): Promise<Answer> {
  const t = cardTexts(locale);
  const base = deps.settings.publicUrl ?? 'http://127.0.0.1:3000';
  const body = JSON.stringify({ platform: chat.platform, app: chat.app, chatId: chat.chatId, taskId: '<taskId>' });
  const curl = `curl -X POST ${base}/api/v1/watches -H "Authorization: Bearer $API_TOKEN" -H "Content-Type: application/json" -d '${body}'`;
  return {
    card: {
      type: 'notice',
      locale,
      title: t.chatIdTitle,
      color: 'blue',
      blocks: [
        { type: 'fields', fields: [{ label: 'chatId', value: chat.chatId }] },
        { type: 'text', text: t.chatIdScript },
        { type: 'text', text: curl },
      ],
    },
  };
}

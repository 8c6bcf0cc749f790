import { z } from 'zod';
import { taskCard } from '../cards/task-card.js';
import type { CommandDeps } from '../commands/deps.js';
import { may, refusalText } from '../commands/rights.js';
import { startWatch } from '../commands/start-watch.js';
import { cardKey, messengerOf } from '../domain/chat.js';
import { chatLocale } from '../store/chat-settings.js';
import { TaskbotError } from '../domain/errors.js';
import { maskContacts } from '../domain/mask.js';
import { snapshotToJson } from '../domain/snapshot-json.js';
import { ALL_KINDS, isTerminal, KINDS_BY_PLATFORM, type TaskKind, type TaskState } from '../domain/task.js';
import { isPlatformUserId } from '../domain/user-id.js';
import { APP_ID, pickApp } from '../domain/apps.js';

/** What a script asks for: a live card of `taskId` in `chatId`. Strict: a misspelt field is an error, not ignored. */
export const WatchRequest = z
  .strictObject({
    platform: z.enum(['feishu', 'dingtalk']),
    /** The app (DESIGN §8); may be left out when one app of the platform is served. */
    app: z.string().regex(APP_ID, 'must be an app id (a-z, 0-9 and -)').optional(),
    chatId: z.string().trim().min(1).max(200),
    taskId: z.string().trim().min(1).max(200),
    kind: z.enum(ALL_KINDS as [TaskKind, ...TaskKind[]]).optional(),
    unionId: z.string().trim().min(1).max(200).optional(),
    notify: z.array(z.string().refine(isPlatformUserId, 'must be a platform user id (Feishu open_id, DingTalk staffId)')).max(20).optional(),
    title: z.string().trim().min(1).max(100).optional(),
  })
  .refine((r) => !r.kind || KINDS_BY_PLATFORM[r.platform].includes(r.kind), { path: ['kind'], message: 'this kind does not exist on this platform' });
export type WatchRequest = z.output<typeof WatchRequest>;

export interface PostedWatch {
  app: string;
  cardKey: string;
  state: TaskState;
}

/**
 * Posts a live card of a task into a chat and watches it, as `status` would: what the script API
 * and `taskbot watch` do. The task is fetched once first, so an unknown task or a missing scope
 * is answered, not posted. `idempotencyKey` makes the platform take a repeated post once where it can.
 */
export async function postWatch(
  deps: Pick<CommandDeps, 'registry' | 'watch' | 'messengers' | 'settings' | 'chats' | 'logger' | 'apps'>,
  req: WatchRequest,
  idempotencyKey?: string,
): Promise<PostedWatch> {
  const app = pickApp(deps.apps, req.platform, req.app); // NOT_CONFIGURED before anything is asked
  const chat = { app: app.id, platform: req.platform, chatId: req.chatId };
  const v = await may(deps, { action: 'read', actor: SCRIPT, chat });
  if (!v.ok) throw new TaskbotError('PERMISSION_DENIED', `chat ${req.chatId} is not in the allowed chats of the app ${app.id}`);
  messengerOf(deps.messengers, app.id);
  const unionId = req.unionId;
  const snap = await deps.registry.fetch({
    app: app.id,
    platform: req.platform,
    id: req.taskId,
    ...(req.kind && { kind: req.kind }),
    ...(unionId && { operatorOf: async () => unionId }),
  });
  const settings = deps.settings.of(app.id);
  const locale = await chatLocale(deps.chats, chat, settings.locale, deps.logger);
  const live = !isTerminal(snap.state);
  const waiting = live ? (req.notify ?? []) : [];
  const title = req.title;
  const card = taskCard(snap, {
    locale,
    timeZone: settings.timeZone,
    mode: live ? 'live' : 'final',
    ...(title && { title }),
    ...(waiting.length && { waiting: waiting.length }),
  });
  const reply = idempotencyKey ? { idempotencyKey: `${app.id}:api:${idempotencyKey}` } : undefined;
  const { handle, failed } = await startWatch(deps, { chat, snap, card, ...(reply && { reply }), origin: { ...(title && { title }) }, waiting });
  // Posted but not watched: the card says so, and so does the answer.
  if (failed) throw failed;
  return { app: app.id, cardKey: cardKey(handle), state: snap.state };
}

/**
 * Stop, as a script asks it (the API's DELETE): the cards scripts posted, not those people asked
 * for (theirs to stop, with taskbot's admins and the group's owner and managers).
 */
export async function stopWatch(
  deps: Pick<CommandDeps, 'watch' | 'cards' | 'messengers' | 'settings' | 'chats'>,
  key: string,
): Promise<{ cardKey: string; app: string; status: string } | { refused: string } | undefined> {
  const card = await deps.cards.get(key);
  if (!card) return undefined;
  const v = await may(deps, {
    action: 'stop',
    actor: SCRIPT,
    chat: { app: card.app, platform: card.platform, chatId: card.chat_id },
    card: { askedBy: card.asked_by },
  });
  if (!v.ok) return { refused: refusalText('en', v.refusal, card.chat_id) };
  const r = await deps.watch.stopCard(key, { inline: false });
  if (r.status === 'unknown') return undefined;
  return { cardKey: key, app: card.app, status: r.status === 'stopped' ? 'stopped' : ((await deps.cards.get(key))?.status ?? 'gone') };
}

const SCRIPT = { kind: 'script' } as const;

/**
 * The latest of a card, for scripts: its status, its task's last snapshot (contacts masked, as
 * on the card) and how many wait; a card of a chat the allowlist does not admit is refused.
 */
export async function describeWatch(
  deps: Pick<CommandDeps, 'cards' | 'messengers' | 'settings' | 'chats'>,
  key: string,
): Promise<Record<string, unknown> | { refused: string } | undefined> {
  const w = await deps.cards.described(key);
  if (!w) return undefined;
  const v = await may(deps, { action: 'read', actor: SCRIPT, chat: { app: w.card.app, platform: w.card.platform, chatId: w.card.chat_id } });
  if (!v.ok) return { refused: refusalText('en', v.refusal, w.card.chat_id) };
  return {
    cardKey: key,
    app: w.card.app,
    platform: w.card.platform,
    chatId: w.card.chat_id,
    status: w.card.status,
    waiting: w.card.waiting,
    ...(w.snapshot && { task: JSON.parse(snapshotToJson(maskContacts(w.snapshot))) as unknown }),
  };
}

import { z } from 'zod';
import { taskCard } from '../cards/task-card.js';
import type { CommandDeps } from '../commands/deps.js';
import { may, refusalText } from '../commands/rights.js';
import { cardKey } from '../domain/chat.js';
import { TaskbotError } from '../domain/errors.js';
import { snapshotToJson } from '../domain/snapshot-json.js';
import { ALL_KINDS, isTerminal, KINDS_BY_PLATFORM, type TaskKind, type TaskState } from '../domain/task.js';
import { isPlatformUserId } from '../domain/user-id.js';

/** What a script asks for: a live card of `taskId` in `chatId`. Strict: a misspelt field is an error, not ignored. */
export const WatchRequest = z
  .strictObject({
    platform: z.enum(['feishu', 'dingtalk']),
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
  cardKey: string;
  state: TaskState;
}

/**
 * Posts a live card of a task into a chat and watches it, as `status` would: what the script API
 * and `taskbot watch` do. The task is fetched once first, so an unknown task or a missing scope
 * is answered, not posted. `idempotencyKey` makes the platform take a repeated post once where it can.
 */
export async function postWatch(
  deps: Pick<CommandDeps, 'registry' | 'engine' | 'messengers' | 'settings' | 'chats'>,
  req: WatchRequest,
  idempotencyKey?: string,
): Promise<PostedWatch> {
  const chat = { platform: req.platform, chatId: req.chatId };
  const v = await may(deps, { action: 'read', actor: SCRIPT, chat });
  if (!v.ok) throw new TaskbotError('PERMISSION_DENIED', `chat ${req.chatId} is not in ALLOWED_CHAT_IDS`);
  const messenger = deps.messengers[req.platform];
  if (!messenger) throw new TaskbotError('NOT_CONFIGURED', `${req.platform} is not configured on this taskbot`);
  const unionId = req.unionId;
  const snap = await deps.registry.fetch({
    platform: req.platform,
    id: req.taskId,
    ...(req.kind && { kind: req.kind }),
    ...(unionId && { operatorOf: async () => unionId }),
  });
  const locale = (await deps.chats.get(chat)).locale ?? deps.settings.locale;
  const live = !isTerminal(snap.state);
  const waiting = live ? (req.notify?.length ?? 0) : 0;
  const card = taskCard(snap, {
    locale,
    timeZone: deps.settings.timeZone,
    mode: live ? 'live' : 'final',
    ...(req.title && { title: req.title }),
    ...(waiting && { waiting }),
  });
  const handle = await messenger.send(chat, card, idempotencyKey ? { idempotencyKey: `api:${idempotencyKey}` } : undefined);
  await deps.engine.track(handle, snap, locale, card, { ...(req.title && { title: req.title }) });
  const key = cardKey(handle);
  if (live) for (const u of req.notify ?? []) await deps.engine.subscribe(key, u);
  return { cardKey: key, state: snap.state };
}

/**
 * Stop, as a script asks it (the API's DELETE): the cards scripts posted, not those people asked
 * for (theirs to stop, with taskbot's admins and the group's owner and managers).
 */
export async function stopWatch(
  deps: Pick<CommandDeps, 'engine' | 'messengers' | 'settings' | 'chats'>,
  key: string,
): Promise<{ cardKey: string; status: string } | { refused: string } | undefined> {
  const card = await deps.engine.cardInfo(key);
  if (!card) return undefined;
  const v = await may(deps, { action: 'stop', actor: SCRIPT, chat: { platform: card.platform, chatId: card.chatId }, card });
  if (!v.ok) return { refused: refusalText('en', v.refusal, card.chatId) };
  const r = await deps.engine.stopCard(key, { inline: false });
  if (r.status === 'unknown') return undefined;
  return { cardKey: key, status: r.status === 'stopped' ? 'stopped' : ((await deps.engine.describe(key))?.card.status ?? 'gone') };
}

const SCRIPT = { kind: 'script' } as const;

/** The latest of a posted card, for scripts: its status, its task's last snapshot and how many wait. */
export async function describeWatch(deps: Pick<CommandDeps, 'engine'>, key: string): Promise<Record<string, unknown> | undefined> {
  const w = await deps.engine.describe(key);
  if (!w) return undefined;
  return {
    cardKey: key,
    platform: w.card.platform,
    chatId: w.card.chat_id,
    status: w.card.status,
    waiting: w.card.waiting,
    ...(w.snapshot && { task: JSON.parse(snapshotToJson(w.snapshot)) as unknown }),
  };
}

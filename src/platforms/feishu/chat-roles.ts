import { z } from 'zod';
import { systemClock, type Clock } from '../../domain/clock.js';
import type { ChatRoles } from '../../domain/policy.js';
import { asTaskbotError, TaskbotError } from '../../domain/errors.js';
import type { FeishuApi } from './api-client.js';

/** Reading a group's owner and managers (im v1 chat get): either scope does. */
export const CHAT_READ_SCOPES = ['im:chat:readonly', 'im:chat'];
/** A group's roles change rarely; a Stop press should not cost a call each time. */
const ROLES_TTL_MS = 5 * 60_000;
const CACHE_MAX = 1000;

// Lenient: a bot-owned group has an app id as owner, a group without managers may send null.
const ChatInfo = z.object({
  owner_id: z.string().nullish(),
  owner_id_type: z.string().nullish(),
  user_manager_id_list: z.array(z.string()).nullish(),
});

/** The group's owner and managers as open_ids (the ids our events carry). */
export async function fetchChatRoles(api: FeishuApi, chatId: string): Promise<ChatRoles> {
  const endpoint = 'im v1 chat get';
  const body = await api.call({ endpoint, scopes: CHAT_READ_SCOPES }, (c, o) =>
    c.im.chat.get({ path: { chat_id: chatId }, params: { user_id_type: 'open_id' } }, o),
  );
  const info = ChatInfo.safeParse(body.data ?? {});
  if (!info.success) throw new TaskbotError('BAD_UPSTREAM_RESPONSE', `${endpoint}: ${info.error.issues[0]?.message ?? 'unexpected answer'}`, { endpoint });
  const d = info.data;
  const owner = d.owner_id && (d.owner_id_type ?? 'open_id') === 'open_id' ? d.owner_id : undefined;
  return { ...(owner && { owner }), managers: d.user_manager_id_list ?? [] };
}

/**
 * Roles per chat for five minutes; concurrent first asks share one call. A refusal for good (the
 * scope is missing) is kept as long, so presses do not spend a call each; a passing failure is not.
 */
export class ChatRolesCache {
  private readonly entries = new Map<string, { at: number; roles: Promise<ChatRoles> }>();

  constructor(
    private readonly fetch: (chatId: string) => Promise<ChatRoles>,
    private readonly clock: Clock = systemClock,
  ) {}

  get(chatId: string): Promise<ChatRoles> {
    const now = this.clock.mono();
    const hit = this.entries.get(chatId);
    if (hit && now - hit.at < ROLES_TTL_MS) return hit.roles;
    const roles = this.fetch(chatId);
    roles.catch((e: unknown) => !asTaskbotError(e).retryable || (this.entries.get(chatId)?.roles === roles && this.entries.delete(chatId)));
    this.entries.delete(chatId);
    if (this.entries.size >= CACHE_MAX) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(chatId, { at: now, roles });
    return roles;
  }
}

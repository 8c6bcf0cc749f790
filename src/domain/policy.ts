/**
 * Who may do what (docs: README "Who may do what"): the one place rights are decided. Commands,
 * buttons, forms and the script API ask `decide`; nothing else compares user ids with admins,
 * askers or the group's roles.
 *
 * - Reading (`status`, `list`, Refresh of a live card, Notify me, the form, Export): anyone in a
 *   chat the allowlist admits.
 * - Stopping a card, and resuming a stopped one with Refresh: the person who asked for it,
 *   ADMIN_USER_IDS, the group's owner and managers where the platform says; anyone when the chat
 *   says `stop anyone`. A card a script posted: admins and scripts only.
 * - The chat's stop rule (it widens rights over other people's cards): admins and the group's
 *   owner and managers; nobody else, also when ADMIN_USER_IDS is empty.
 * - The chat's other settings: admins when ADMIN_USER_IDS is set; otherwise anyone in the chat.
 * - Another chat's tasks (`mine`): only in the person's own 1:1 chat, never in front of a group.
 */

/** Who may stop a chat's cards besides the asker, admins and the group's owner and managers. */
export type StopRule = 'asker' | 'anyone';

/** The group's owner and managers, as the platform names them (the same ids its events carry). */
export interface ChatRoles {
  owner?: string;
  managers: readonly string[];
}

export const ACTIONS = ['read', 'stop', 'resume', 'set-stop-rule', 'configure', 'see-other-chats'] as const;
export type Action = (typeof ACTIONS)[number];

/** A person as the platform names them (no id: the platform did not say), or a script through the API. */
export type Actor = { kind: 'person'; userId?: string } | { kind: 'script' };

export interface PolicyQuestion {
  action: Action;
  actor: Actor;
  chatId: string;
  /** Unknown (a button press does not say): read as a group, the narrower reading. */
  chatType?: 'group' | 'p2p';
  /** The card acted on (stop, resume): who asked for it; null when a script posted it. */
  card?: { askedBy: string | null };
  /** ADMIN_USER_IDS; an empty list names nobody. */
  admins: readonly string[];
  /** ALLOWED_CHAT_IDS; an empty list admits every chat. */
  allowedChats: readonly string[];
  /** The chat's stop rule (asked only for stop and resume). */
  stopRule: () => Promise<StopRule>;
  /**
   * The group's owner and managers, asked only when nothing cheaper decides (a platform call);
   * undefined when the platform cannot say (no scope, no such API).
   */
  roles: () => Promise<ChatRoles | undefined>;
}

/**
 * Why not: `chat` the allowlist does not admit it; `asker` only the asker, admins and the group's
 * owner and managers stop this card; `admins` a script's card: only admins (and scripts);
 * `owners` only admins and the group's owner and managers; `configure` only ADMIN_USER_IDS;
 * `group` not in front of a group.
 */
export type Refusal = 'chat' | 'asker' | 'admins' | 'owners' | 'configure' | 'group';
export type Verdict = { ok: true } | { ok: false; refusal: Refusal };

const YES: Verdict = { ok: true };
const no = (refusal: Refusal): Verdict => ({ ok: false, refusal });

export async function decide(q: PolicyQuestion): Promise<Verdict> {
  if (q.allowedChats.length > 0 && !q.allowedChats.includes(q.chatId)) return no('chat');
  const user = q.actor.kind === 'person' ? q.actor.userId || undefined : undefined;
  const script = q.actor.kind === 'script';
  const group = q.chatType !== 'p2p';
  const admin = user !== undefined && q.admins.includes(user);
  const runsGroup = async () => {
    if (!user || !group) return false;
    const r = await q.roles();
    return !!r && (r.owner === user || r.managers.includes(user));
  };
  switch (q.action) {
    case 'read':
      return YES;
    case 'see-other-chats':
      return user && !group ? YES : no('group');
    case 'configure':
      if (script) return no('configure');
      return q.admins.length === 0 || admin ? YES : no('configure');
    case 'set-stop-rule':
      return admin || (await runsGroup()) ? YES : no('owners');
    case 'stop':
    case 'resume': {
      const askedBy = q.card?.askedBy ?? null;
      const refusal = askedBy === null ? 'admins' : 'asker';
      if (script) return askedBy === null ? YES : no('asker');
      if (!user) return no(refusal);
      if (admin) return YES;
      if (askedBy === null) return no('admins');
      if (askedBy === user || (await q.stopRule()) === 'anyone') return YES;
      return (await runsGroup()) ? YES : no('asker');
    }
  }
}

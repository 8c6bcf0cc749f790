/**
 * Who may stop a live card. Stopping hides a task from everyone watching it, so it is not open to
 * the whole group: the person who asked for the card may, and so may taskbot's admins
 * (ADMIN_USER_IDS) and the group's owner and managers where the platform tells us. A chat's admin
 * may open its own cards to everyone (`stop anyone`). A card a script posted has no asker: only
 * admins stop it (or the script, with the API's DELETE).
 */
export type StopRule = 'asker' | 'anyone';

/** The group's owner and managers, as the platform names them (the same ids its events carry). */
export interface ChatRoles {
  owner?: string;
  managers: readonly string[];
}

export interface StopQuestion {
  /** Who asked for the card; null: a script posted it. */
  askedBy: string | null;
  /** Who pressed Stop or typed `stop`; undefined when the platform did not say. */
  userId?: string;
  /** ADMIN_USER_IDS (only people listed there; an empty list names nobody). */
  admins: readonly string[];
  rule: StopRule;
}

/** Allowed, or refused with whom to name in the answer. */
export type StopVerdict = { ok: true } | { ok: false; who: 'asker' | 'admins' };

/**
 * The verdict; `roles` is asked only when nothing cheaper decides (a platform call), and may be
 * undefined when the platform cannot say (no scope, no such API): then the asker and admins decide.
 */
export async function mayStop(q: StopQuestion, roles: () => Promise<ChatRoles | undefined>): Promise<StopVerdict> {
  const who = q.askedBy === null ? 'admins' : 'asker';
  const user = q.userId;
  if (!user) return { ok: false, who };
  if (q.admins.includes(user)) return { ok: true };
  if (q.askedBy !== null && (q.askedBy === user || q.rule === 'anyone')) return { ok: true };
  const r = await roles();
  if (r && (r.owner === user || r.managers.includes(user))) return { ok: true };
  return { ok: false, who };
}

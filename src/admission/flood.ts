/**
 * Per-person and per-chat command limits, checked before anything is queued, so one person
 * flooding a chat is answered politely once and never starves other chats.
 */
export interface FloodLimits {
  perUser: number;
  perChat: number;
  windowMs: number;
}

export const DEFAULT_FLOOD_LIMITS: FloodLimits = { perUser: 20, perChat: 60, windowMs: 60_000 };
/** Button presses and form submissions: a few a second is a person checking; more is a flood of upstream reads. */
export const DEFAULT_PRESS_LIMITS: FloodLimits = { perUser: 8, perChat: 30, windowMs: 10_000 };

export type FloodVerdict = 'ok' | 'notify' | 'drop';

export class FloodGuard {
  private readonly hits = new Map<string, number[]>();
  /** Keys told "slow down" in their current window (told once). */
  private readonly told = new Map<string, number>();

  constructor(private readonly limits: FloodLimits = DEFAULT_FLOOD_LIMITS) {}

  check(app: string, chatId: string, userId: string, now: number): FloodVerdict {
    const user = `${app}:u:${chatId}:${userId}`;
    const chat = `${app}:c:${chatId}`;
    const overUser = this.count(user, now) >= this.limits.perUser;
    const overChat = this.count(chat, now) >= this.limits.perChat;
    if (!overUser && !overChat) {
      this.hit(user, now);
      this.hit(chat, now);
      return 'ok';
    }
    const who = overUser ? user : chat;
    const toldAt = this.told.get(who);
    if (toldAt !== undefined && now - toldAt < this.limits.windowMs) return 'drop';
    this.told.set(who, now);
    return 'notify';
  }

  private count(key: string, now: number): number {
    const list = this.hits.get(key);
    if (!list) return 0;
    while (list.length > 0 && now - list[0]! >= this.limits.windowMs) list.shift();
    if (list.length === 0) this.hits.delete(key);
    return list.length;
  }

  private hit(key: string, now: number): void {
    const list = this.hits.get(key) ?? [];
    list.push(now);
    this.hits.set(key, list);
    // Keep memory bounded under a storm of distinct senders.
    if (this.hits.size > 100_000) this.hits.delete(this.hits.keys().next().value!);
    if (this.told.size > 100_000) this.told.delete(this.told.keys().next().value!);
  }
}

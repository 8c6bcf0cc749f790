import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import type { InboundCommand } from '../domain/inbound-port.js';
import type { Store } from '../store/store.js';
import { LeaseKeeper } from '../domain/lease-keeper.js';

/** Platforms redeliver for hours at most; an id is remembered for three days. */
export const DEDUPE_TTL_MS = 3 * 86_400_000;
/** A replica holds a command it works this long, renewed while it works; then another takes it over. */
export const COMMAND_LEASE_MS = 15_000;
/** How often commands whose holder's lease lapsed are looked for. */
const ADOPT_EVERY_MS = 2000;

/** A command as kept in the store until it is answered. */
interface Kept {
  /** Its app is absent in commands kept before there were several apps. */
  cmd: Omit<InboundCommand, 'operator' | 'app'> & { app?: string };
  /** The platform reads some tasks as the sender (DingTalk storage): looked up again from the user id. */
  operator: boolean;
  /** It came over the flood limits: its answer is "slow down". */
  busy: boolean;
}

export interface OwedCommand {
  key: string;
  cmd: InboundCommand;
  busy: boolean;
  /** Holders that took it so far, this one included. */
  attempts: number;
}

export interface InboxDeps {
  store: Store;
  clock: Clock;
  owner: string;
  logger?: Logger;
  /** The sender's lookup a command to `app` from `userId` carries (DingTalk storage reads tasks as the sender). */
  operatorOf: (app: string, userId: string) => InboundCommand['operator'];
  /** How many commands this replica can take on now (its work queue's room). */
  room: () => number;
  /** A command taken over from a holder that went away. */
  adopted: (c: OwedCommand) => void;
  leaseMs?: number;
}

/**
 * Commands are durable before they are acknowledged: the dedupe claim of a delivery keeps the
 * command, leased to this replica, until it is answered. The lease is renewed while the command is
 * worked; a replica that dies (or stops before answering) leaves its commands to whichever replica
 * looks next once the lease lapsed, and they are answered there.
 */
export class Inbox {
  private readonly working: LeaseKeeper;
  private timer?: NodeJS.Timeout;

  constructor(private readonly d: InboxDeps) {
    const leaseMs = d.leaseMs ?? COMMAND_LEASE_MS;
    this.working = new LeaseKeeper({
      leaseMs,
      clock: d.clock,
      renew: (keys, until) => d.store.inbox.renew(keys, d.owner, until),
      what: 'commands being answered',
      ...(d.logger && { logger: d.logger }),
    });
  }

  /** Keeps the command of a delivery (its first id holds it); the key it is kept under, or undefined for a duplicate. Throws when the store fails. */
  async take(cmd: InboundCommand, keys: string[], busy: boolean): Promise<string | undefined> {
    const { operator, ...plain } = cmd;
    const kept: Kept = { cmd: plain, operator: operator !== undefined, busy };
    const key = keys[0]!;
    // Being answered here already: a repeat delivery, and the first keeps its hold. (One arriving
    // while the first is being kept is told a duplicate by the store.)
    if (this.working.has(key)) return undefined;
    const asked = this.d.clock.mono();
    const claimed = await this.d.store.inbox.claim(keys, this.d.clock.now(), DEDUPE_TTL_MS, {
      payload: JSON.stringify(kept),
      owner: this.d.owner,
      leaseUntil: this.working.until(),
    });
    if (!claimed) return undefined;
    // Held once its row exists: a renewal before that finds no row and would take the lease for lost.
    this.working.hold(key, asked);
    return key;
  }

  /** The command was answered (or given up): it is no longer kept. */
  async done(key: string): Promise<void> {
    // Even when the store cannot be told: the lease then lapses, and another replica answers again (twice beats never).
    this.working.drop(key);
    await this.d.store.inbox.answered(key);
  }

  /** Throws LeaseLost unless this replica still holds the command (before its answer goes out). */
  guard(key: string): Promise<void> {
    return this.working.guard(key);
  }

  start(): void {
    this.working.start();
    this.timer = setInterval(() => void this.adopt(), ADOPT_EVERY_MS);
    this.timer.unref();
  }

  /** Stops looking, and lets go of the commands not answered yet: another replica (or the next start) answers them. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.working.stop();
    await this.d.store.inbox.release(this.d.owner);
  }

  private async adopt(): Promise<void> {
    const room = Math.min(50, this.d.room());
    if (room <= 0) return;
    const owed = await this.d.store.inbox.adopt(this.d.owner, this.d.clock.now(), this.working.until(), room).catch((e) => {
      this.d.logger?.warn({ err: e }, 'could not look for commands left unanswered');
      return [];
    });
    for (const o of owed) {
      // Its own, still being answered here (its lease lapsed while the store could not be reached): kept on, not answered twice.
      if (this.working.has(o.key)) continue;
      let kept: Kept;
      try {
        kept = JSON.parse(o.payload) as Kept;
      } catch {
        this.d.logger?.error({ key: o.key }, 'a kept command cannot be read; dropped');
        await this.done(o.key).catch(() => undefined);
        continue;
      }
      // Kept before there were several apps: the app named for its platform's (DESIGN §8).
      const cmd = { ...kept.cmd, app: kept.cmd.app ?? kept.cmd.platform };
      const operator = kept.operator ? this.d.operatorOf(cmd.app, cmd.userId) : undefined;
      this.working.hold(o.key);
      this.d.logger?.info({ key: o.key, chat: kept.cmd.chatId, attempts: o.attempts }, 'answering a command its first holder left unanswered');
      this.d.adopted({ key: o.key, cmd: { ...cmd, ...(operator && { operator }) }, busy: kept.busy, attempts: o.attempts });
    }
  }
}

import { laneRank, type SendLane } from '../domain/chat.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { RATE_WINDOW_MS } from './rate-limit.js';

export interface PacerLimits {
  perSecond: number;
  /** The app's per-minute limit, where the platform has one. */
  perMinute?: number;
  /** Per chat (sends) or per message (updates); none where the platform counts only the app. */
  perKeyPerSecond?: number;
  /**
   * Left to people's answers in every window: the other lanes stop this short of each limit, and
   * under a per-minute limit they are spread evenly over the minute, so a burst of background
   * writes never fills the minute and leaves a person's reply waiting for it to roll over.
   */
  reserve?: { perSecond: number; perMinute: number };
}

/** A send in a window: in flight (at undefined) or answered at `at`. */
interface Slot {
  at?: number;
}

interface Waiter {
  key: string;
  rank: number;
  go: (release: () => void) => void;
}

/**
 * One app's outbound queue: paces every write under the app-wide per-second and per-minute limits
 * and a per-key (chat, message) limit at once, serving the most valuable lane first (SendLane).
 * A send holds a slot in each window from its start until it is answered, and the slot is timed
 * from the answer: the platform saw it no later than that, so however late a request reached the
 * platform, two sends it counts in one window are never more than we allowed. A key at its limit
 * does not hold up other keys.
 */
export class SendPacer {
  private readonly second: Slot[] = [];
  private readonly minute: Slot[] = [];
  private readonly perKey = new Map<string, Slot[]>();
  private readonly waiting: Waiter[] = [];
  private sleeping = false;
  private lastBackground = -Infinity;
  /** Background starts are at least this far apart under a per-minute limit (0: no spreading). */
  private readonly spacingMs: number;

  constructor(
    private readonly limits: PacerLimits,
    private readonly clock: Clock = systemClock,
    private readonly windowMs = RATE_WINDOW_MS,
    private readonly onWait?: () => void,
  ) {
    const r = limits.reserve;
    this.spacingMs = limits.perMinute && r ? (60 * windowMs) / (limits.perMinute - r.perMinute) : 0;
  }

  /** Resolves when `key` may send; call the returned function once the send is answered. */
  acquire(key: string, lane: SendLane = 'people'): Promise<() => void> {
    return new Promise((go) => {
      const w: Waiter = { key, rank: laneRank(lane), go };
      // Ordered by lane, first come first served within one.
      const at = this.waiting.findIndex((x) => x.rank > w.rank);
      this.waiting.splice(at < 0 ? this.waiting.length : at, 0, w);
      this.pump();
      if (this.waiting.includes(w)) this.onWait?.();
    });
  }

  private pump(): void {
    const now = this.clock.now();
    trim(this.second, now, this.windowMs);
    trim(this.minute, now, 60 * this.windowMs);
    let wakeAt = Infinity;
    for (let i = 0; i < this.waiting.length; ) {
      const w = this.waiting[i]!;
      // Every later waiter is of this lane or a lower one, whose limits are no looser: none can go either.
      const globalFree = this.appFreeAt(w.rank > 0, now);
      if (globalFree > now) {
        wakeAt = Math.min(wakeAt, globalFree);
        break;
      }
      const log = this.perKey.get(w.key) ?? [];
      trim(log, now, this.windowMs);
      const keyFree = freeAt(log, this.limits.perKeyPerSecond ?? Infinity, now, this.windowMs);
      if (keyFree > now) {
        wakeAt = Math.min(wakeAt, keyFree);
        i++;
        continue;
      }
      const slot: Slot = {};
      log.push(slot);
      this.perKey.set(w.key, log);
      this.second.push(slot);
      this.minute.push(slot);
      if (w.rank > 0) this.lastBackground = now;
      this.waiting.splice(i, 1);
      let released = false;
      w.go(() => {
        if (released) return;
        released = true;
        slot.at = this.clock.now();
        this.pump();
      });
    }
    for (const [k, log] of this.perKey) if (log.length === 0) this.perKey.delete(k);
    // Full windows of sends still in flight wake us through their release instead.
    if (this.waiting.length > 0 && wakeAt < Infinity && !this.sleeping) {
      this.sleeping = true;
      void this.clock.sleep(Math.max(1, wakeAt - now)).then(() => {
        this.sleeping = false;
        this.pump();
      });
    }
  }

  /** When the app-wide windows let a send of a person's (or, `background`, any other lane) start. */
  private appFreeAt(background: boolean, now: number): number {
    const r = background ? this.limits.reserve : undefined;
    const second = freeAt(this.second, this.limits.perSecond - (r?.perSecond ?? 0), now, this.windowMs);
    const minute = this.limits.perMinute ? freeAt(this.minute, this.limits.perMinute - (r?.perMinute ?? 0), now, 60 * this.windowMs) : now;
    const spread = background ? this.lastBackground + this.spacingMs : now;
    return Math.max(second, minute, spread);
  }
}

/** When the window has room: now, when a slot's time is up, or never yet (all in flight). */
function freeAt(log: Slot[], limit: number, now: number, windowMs: number): number {
  if (log.length < limit) return now;
  let earliest = Infinity;
  for (const s of log) if (s.at !== undefined) earliest = Math.min(earliest, s.at + windowMs);
  return earliest;
}

/** Drops answered sends that left the window; in-flight ones stay. */
function trim(log: Slot[], now: number, windowMs: number): void {
  for (let i = log.length - 1; i >= 0; i--) {
    const at = log[i]!.at;
    if (at !== undefined && now - at >= windowMs) log.splice(i, 1);
  }
}

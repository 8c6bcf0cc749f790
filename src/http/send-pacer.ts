import { laneRank, type SendLane } from '../domain/chat.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { ALONE, sharedLimit, type LimitShare } from '../domain/limit-share.js';
import { RATE_WINDOW_MS } from './rate-limit.js';

export interface PacerLimits {
  perSecond: number;
  /** The app's per-minute limit, where the platform has one. */
  perMinute?: number;
  /** Per chat (sends) or per message (updates); none where the platform counts only the app. */
  perKeyPerSecond?: number;
  /** Left to people's answers in every window: the other lanes stop this short of each limit. */
  reserve?: { perSecond: number; perMinute?: number };
  /**
   * The share of what is left that progress may use in any window: progress sent before a burst of
   * finals must not have spent the minute they need.
   */
  progressShare?: number;
}

const PROGRESS = laneRank('progress');
const FINAL = laneRank('final');

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
  /** A minute, padded like the second (for jitter, not sixty times over). */
  private readonly minuteMs: number;
  /**
   * Under a per-minute limit the other lanes are also metered by a bucket refilled at their share of
   * the minute: they spread over it rather than fill it in a few seconds and leave people's answers
   * waiting for it to roll over.
   */
  private readonly bucket?: { perMs: number; size: number; tokens: number; at: number };

  constructor(
    private readonly limits: PacerLimits,
    private readonly clock: Clock = systemClock,
    private readonly windowMs = RATE_WINDOW_MS,
    private readonly onWait?: () => void,
    private readonly share: LimitShare = ALONE,
  ) {
    this.minuteMs = 60_000 + (windowMs - 1000);
    const r = limits.reserve;
    if (limits.perMinute) {
      const size = limits.perSecond - (r?.perSecond ?? 0);
      this.bucket = { perMs: (limits.perMinute - (r?.perMinute ?? 0)) / this.minuteMs, size, tokens: size, at: clock.mono() };
    }
  }

  /**
   * When a write of `lane` could start as far as the app's windows go (now, or when a slot frees):
   * a queue asks before it takes work, so it waits without holding anything. `hold`: writes of the
   * minute the lanes below the final states leave to finals expected soon.
   */
  readyAt(lane: SendLane, hold = 0): number {
    const now = this.clock.mono();
    this.trimWindows(now);
    const at = this.appFreeAt(laneRank(lane), now, hold);
    // Windows full of writes in flight free up when they are answered: look again shortly.
    return at === Infinity ? now + 50 : Math.max(now, at);
  }

  /** Resolves when `key` may send; call the returned function once the send is answered. */
  acquire(key: string, lane: SendLane = 'people'): Promise<() => void> {
    return new Promise((go) => {
      const w: Waiter = { key, rank: laneRank(lane), go };
      // People first; the other lanes first come first served (a card queue sends them in value order
      // already, and a write it let go must not starve here behind later, higher ones).
      const at = w.rank === 0 ? this.waiting.findIndex((x) => x.rank > 0) : -1;
      this.waiting.splice(at < 0 ? this.waiting.length : at, 0, w);
      this.pump();
      if (this.waiting.includes(w)) this.onWait?.();
    });
  }

  private pump(): void {
    const now = this.clock.mono();
    this.trimWindows(now);
    let wakeAt = Infinity;
    for (let i = 0; i < this.waiting.length; ) {
      const w = this.waiting[i]!;
      const globalFree = this.appFreeAt(w.rank, now);
      if (globalFree > now) {
        wakeAt = Math.min(wakeAt, globalFree);
        // People's limits are the loosest, then the finals': when those are full, nobody later can go.
        if (w.rank <= FINAL) break;
        i++;
        continue;
      }
      const log = this.perKey.get(w.key) ?? [];
      trim(log, now, this.windowMs);
      const keyFree = freeAt(log, sharedLimit(this.limits.perKeyPerSecond ?? Infinity, this.share()), now, this.windowMs);
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
      if (w.rank > 0 && this.bucket) this.bucket.tokens--;
      this.waiting.splice(i, 1);
      let released = false;
      w.go(() => {
        if (released) return;
        released = true;
        slot.at = this.clock.mono();
        this.pump();
      });
    }
    // Every key's window, not only the waiting ones': a chat or card sent to once must not be held
    // (and walked on every send) for the life of the process.
    this.perKey.forEach((log, k) => {
      trim(log, now, this.windowMs);
      if (log.length === 0) this.perKey.delete(k);
    });
    // Full windows of sends still in flight wake us through their release instead.
    if (this.waiting.length > 0 && wakeAt < Infinity && !this.sleeping) {
      this.sleeping = true;
      void this.clock.sleep(Math.max(1, wakeAt - now)).then(() => {
        this.sleeping = false;
        this.pump();
      });
    }
  }

  /** The chats and cards whose per-key window holds a send: those sent to within the last window, or in flight. */
  get keysHeld(): number {
    return this.perKey.size;
  }

  private trimWindows(now: number): void {
    trim(this.second, now, this.windowMs);
    trim(this.minute, now, this.minuteMs);
  }

  /**
   * When the app-wide windows let a write of the lane ranked `rank` start; lanes below the final
   * states also leave `hold` writes of the minute to finals expected soon.
   */
  private appFreeAt(rank: number, now: number, hold = 0): number {
    const r = rank > 0 ? this.limits.reserve : undefined;
    const share = (rank === PROGRESS ? (this.limits.progressShare ?? 1) : 1) * this.share();
    const cap = (limit: number, kept = 0) => sharedLimit(limit - kept, share);
    const held = rank > FINAL ? hold : 0;
    const second = freeAt(this.second, cap(this.limits.perSecond, r?.perSecond), now, this.windowMs);
    const minute = this.limits.perMinute ? freeAt(this.minute, cap(this.limits.perMinute, (r?.perMinute ?? 0) + held), now, this.minuteMs) : now;
    return Math.max(second, minute, rank > 0 ? this.tokenAt(now) : now);
  }

  /** When the other lanes' bucket holds a token again. */
  private tokenAt(now: number): number {
    const b = this.bucket;
    if (!b) return now;
    const f = this.share();
    b.tokens = Math.min(Math.max(1, b.size * f), b.tokens + (now - b.at) * b.perMs * f);
    b.at = now;
    return b.tokens >= 1 ? now : now + Math.ceil((1 - b.tokens) / (b.perMs * f));
  }
}

/** When the window has room: now, when a slot's time is up, or never yet (all in flight). */
function freeAt(log: Slot[], limit: number, now: number, windowMs: number): number {
  if (log.length < limit) return now;
  let earliest = Infinity;
  for (const s of log) if (s.at !== undefined) earliest = Math.min(earliest, s.at + windowMs);
  return earliest;
}

/**
 * Drops answered sends that left the window; in-flight ones stay. Compacted in place: a splice per
 * dropped send copied the minute's window (thousands of slots under load) on every send.
 */
function trim(log: Slot[], now: number, windowMs: number): void {
  let kept = 0;
  for (const s of log) if (s.at === undefined || now - s.at < windowMs) log[kept++] = s;
  log.length = kept;
}

import { systemClock, type Clock } from '../domain/clock.js';
import { RATE_WINDOW_MS } from './rate-limit.js';

export interface PacerLimits {
  perSecond: number;
  perMinute: number;
  perKeyPerSecond: number;
}

/** A send in a window: in flight (at undefined) or answered at `at`. */
interface Slot {
  at?: number;
}

/**
 * Paces sends under an app-wide per-second and per-minute limit and a per-chat per-second limit
 * at once. A send holds a slot in each window from its start until it is answered, and the slot
 * is timed from the answer: the platform saw it no later than that, so however late a request
 * reached the platform (a new connection, a slow network), two sends it counts in one window are
 * never more than we allowed. A chat at its limit does not hold up other chats.
 */
export class SendPacer {
  private readonly second: Slot[] = [];
  private readonly minute: Slot[] = [];
  private readonly perKey = new Map<string, Slot[]>();
  private readonly waiting: { key: string; go: (release: () => void) => void }[] = [];
  private sleeping = false;

  constructor(
    private readonly limits: PacerLimits,
    private readonly clock: Clock = systemClock,
    private readonly windowMs = RATE_WINDOW_MS,
    private readonly onWait?: () => void,
  ) {}

  /** Resolves when `key` may send; call the returned function once the send is answered. */
  acquire(key: string): Promise<() => void> {
    return new Promise((go) => {
      const w = { key, go };
      this.waiting.push(w);
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
      const globalFree = Math.max(freeAt(this.second, this.limits.perSecond, now, this.windowMs), freeAt(this.minute, this.limits.perMinute, now, 60 * this.windowMs));
      if (globalFree > now) {
        wakeAt = Math.min(wakeAt, globalFree);
        break;
      }
      const w = this.waiting[i]!;
      const log = this.perKey.get(w.key) ?? [];
      trim(log, now, this.windowMs);
      const keyFree = freeAt(log, this.limits.perKeyPerSecond, now, this.windowMs);
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

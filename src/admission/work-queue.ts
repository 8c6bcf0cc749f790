import PQueue from 'p-queue';

/** Jobs of one chat worked at once at most: a chat's flood (a slow upstream) never holds every slot. */
export const PER_CHAT_CONCURRENCY = 4;

/**
 * A bounded queue of background jobs: events are acknowledged at once and worked here, at most
 * `concurrency` at a time (p-queue), and at most `perKey` of one key (a chat) at a time: the rest
 * of that chat's jobs wait their turn outside the shared slots, so other chats go on. When
 * `maxPending` jobs wait, new ones are refused, so a flood cannot grow memory without bound; the
 * caller tells the person so.
 */
export class WorkQueue {
  private readonly q: PQueue;
  /** Per key: its jobs in the shared queue, and those waiting for one of them to finish. */
  private readonly keys = new Map<string, { running: number; waiting: (() => Promise<void>)[] }>();
  private waiting = 0;

  constructor(
    concurrency: number,
    private readonly maxPending: number,
    private readonly onError: (e: unknown) => void,
    private readonly perKey = PER_CHAT_CONCURRENCY,
  ) {
    this.q = new PQueue({ concurrency });
  }

  push(job: () => Promise<void>, key?: string): boolean {
    if (this.q.size + this.waiting >= this.maxPending) return false;
    if (key === undefined) {
      this.q.add(job).catch(this.onError);
      return true;
    }
    const k = this.keys.get(key) ?? { running: 0, waiting: [] };
    this.keys.set(key, k);
    if (k.running < this.perKey) this.start(key, k, job);
    else {
      k.waiting.push(job);
      this.waiting++;
    }
    return true;
  }

  private start(key: string, k: { running: number; waiting: (() => Promise<void>)[] }, job: () => Promise<void>): void {
    k.running++;
    this.q
      .add(job)
      .catch(this.onError)
      .finally(() => {
        k.running--;
        const next = k.waiting.shift();
        if (next) {
          this.waiting--;
          this.start(key, k, next);
        } else if (k.running === 0) this.keys.delete(key);
      });
  }

  /** Jobs waiting or running. */
  get size(): number {
    return this.q.size + this.q.pending + this.waiting;
  }

  /** How many more jobs it takes now. */
  get room(): number {
    return Math.max(0, this.maxPending - this.q.size - this.waiting);
  }

  /** Resolves when every queued job has finished (graceful shutdown), a chat's waiting ones included. */
  async drain(): Promise<void> {
    do {
      await this.q.onIdle();
      // A finished job hands its chat's next to the queue just after: look again.
      await new Promise<void>((r) => setImmediate(r));
    } while (this.size > 0);
  }

  /** Drops the jobs not started yet (a shutdown past its deadline); those running go on. */
  clear(): void {
    this.q.clear();
    for (const k of this.keys.values()) k.waiting.length = 0;
    this.waiting = 0;
  }
}

import PQueue from 'p-queue';

/**
 * A bounded queue of background jobs: events are acknowledged at once and worked here, at most
 * `concurrency` at a time (p-queue). When `maxPending` jobs wait, new ones are refused, so a
 * flood cannot grow memory without bound; the caller tells the person so.
 */
export class WorkQueue {
  private readonly q: PQueue;

  constructor(
    concurrency: number,
    private readonly maxPending: number,
    private readonly onError: (e: unknown) => void,
  ) {
    this.q = new PQueue({ concurrency });
  }

  push(job: () => Promise<void>): boolean {
    if (this.q.size >= this.maxPending) return false;
    this.q.add(job).catch(this.onError);
    return true;
  }

  /** Jobs waiting or running. */
  get size(): number {
    return this.q.size + this.q.pending;
  }

  /** How many more jobs it takes now. */
  get room(): number {
    return Math.max(0, this.maxPending - this.q.size);
  }

  /** Resolves when every queued job has finished (graceful shutdown). */
  drain(): Promise<void> {
    return this.q.onIdle();
  }

  /** Drops the jobs not started yet (a shutdown past its deadline); those running go on. */
  clear(): void {
    this.q.clear();
  }
}

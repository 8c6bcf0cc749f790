/**
 * A bounded queue of background jobs: events are acknowledged at once and worked here, at most
 * `concurrency` at a time. When `maxPending` jobs wait, new ones are refused (the caller says so).
 */
export class WorkQueue {
  private readonly pending: (() => Promise<void>)[] = [];
  private running = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly maxPending: number,
    private readonly onError: (e: unknown) => void,
  ) {}

  push(job: () => Promise<void>): boolean {
    if (this.pending.length >= this.maxPending) return false;
    this.pending.push(job);
    this.pump();
    return true;
  }

  get size(): number {
    return this.pending.length + this.running;
  }

  /** Resolves when every queued job has finished (graceful shutdown). */
  drain(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private pump(): void {
    while (this.running < this.concurrency && this.pending.length > 0) {
      const job = this.pending.shift()!;
      this.running++;
      job()
        .catch(this.onError)
        .finally(() => {
          this.running--;
          this.pump();
          if (this.size === 0) for (const w of this.idleWaiters.splice(0)) w();
        });
    }
  }
}

import type BetterSqlite3 from 'better-sqlite3';

export interface QuietCheckpointOptions {
  /** How long without a store call counts as a quiet moment. */
  quietMs: number;
  /** Rows changed since the last checkpoint before a quiet moment is spent on one. */
  minChanges: number;
}

/**
 * A checkpoint copies SQLite's WAL into the database file and syncs both: ~3 ms of blocked event
 * loop on a local disk, more on network storage. SQLite's own runs inside whichever commit fills
 * the WAL to 1,000 pages, in the middle of somebody's command; this one runs once the store has
 * been quiet for a moment, so that commit rarely comes. SQLite's stays as the backstop for a store
 * that is never quiet. (A worker thread would take it off the event loop, for 14–19 MB of RSS.)
 */
export const QUIET_CHECKPOINT: QuietCheckpointOptions = { quietMs: 10, minChanges: 64 };

export class QuietCheckpoint {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private changesAtLast = 0;
  private readonly totalChanges: BetterSqlite3.Statement;

  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly onFailed: (e: Error) => void,
    private readonly o: QuietCheckpointOptions = QUIET_CHECKPOINT,
  ) {
    this.totalChanges = db.prepare('select total_changes()').pluck();
  }

  /** A store call ended: the quiet moment is counted from now. */
  touched(): void {
    if (this.stopped) return;
    if (this.timer) this.timer.refresh();
    else this.timer = setTimeout(() => this.quiet(), this.o.quietMs).unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private quiet(): void {
    let changes = this.changesAtLast;
    try {
      // A transaction waiting on something else holds the connection: not quiet yet.
      if (this.db.inTransaction) {
        this.touched();
        return;
      }
      changes = this.totalChanges.get() as number;
      if (changes - this.changesAtLast < this.o.minChanges) return;
      // PASSIVE never waits on another process's lock: what it cannot copy now waits for the next one.
      this.db.pragma('wal_checkpoint(PASSIVE)');
    } catch (e) {
      // Nothing is lost: the WAL keeps the commits, and SQLite's own checkpoint still runs.
      this.onFailed(e as Error);
    }
    // A failed one too: tried again after as many changes, not in every quiet moment of an outage.
    this.changesAtLast = changes;
  }
}

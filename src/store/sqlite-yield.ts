import { SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type SqliteDialectConfig } from 'kysely';
import { yieldIfBusy } from '../domain/slice.js';
import type { QuietCheckpoint } from './quiet-checkpoint.js';

/**
 * SQLite answers without touching the event loop, and every caller waiting for its one
 * connection resumes on a microtask: two dozen chains of store calls (round workers, queued card
 * turns) would run back to back for tens of milliseconds. Each store call may end the slice
 * before it takes the connection, so people's commands and timers get in every few milliseconds.
 * Never inside a transaction: its write lock would be held across the pause.
 */
class YieldingSqliteDriver extends SqliteDriver {
  constructor(
    config: SqliteDialectConfig,
    private readonly checkpoint?: QuietCheckpoint,
  ) {
    super(config);
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    await yieldIfBusy();
    return super.acquireConnection();
  }

  override async releaseConnection(): Promise<void> {
    this.checkpoint?.touched();
    return super.releaseConnection();
  }

  override async destroy(): Promise<void> {
    this.checkpoint?.stop();
    return super.destroy();
  }
}

/** `checkpoint` is told of every store call's end, and stopped before the connection closes. */
export class YieldingSqliteDialect extends SqliteDialect {
  constructor(
    private readonly config: SqliteDialectConfig,
    private readonly checkpoint?: QuietCheckpoint,
  ) {
    super(config);
  }

  override createDriver(): Driver {
    return new YieldingSqliteDriver(this.config, this.checkpoint);
  }
}

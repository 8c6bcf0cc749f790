import { SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type SqliteDialectConfig } from 'kysely';
import { yieldIfBusy } from '../domain/slice.js';

/**
 * SQLite answers without touching the event loop, and every caller waiting for its one
 * connection resumes on a microtask: two dozen chains of store calls (round workers, queued card
 * turns) would run back to back for tens of milliseconds. Each store call may end the slice
 * before it takes the connection, so people's commands and timers get in every few milliseconds.
 * Never inside a transaction: its write lock would be held across the pause.
 */
class YieldingSqliteDriver extends SqliteDriver {
  override async acquireConnection(): Promise<DatabaseConnection> {
    await yieldIfBusy();
    return super.acquireConnection();
  }
}

export class YieldingSqliteDialect extends SqliteDialect {
  constructor(private readonly config: SqliteDialectConfig) {
    super(config);
  }

  override createDriver(): Driver {
    return new YieldingSqliteDriver(this.config);
  }
}

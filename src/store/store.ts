import type { Kysely } from 'kysely';
import { CardStore } from './cards.js';
import type { StoreContext } from './store-context.js';
import { InboxStore } from './inbox.js';
import { DigestStore } from './digests.js';
import { FormStore } from './forms.js';
import { RetentionStore } from './retention.js';
import { PreparedQueries } from './prepared.js';
import { ReplicaStore } from './replicas.js';
import type { Database } from './schema.js';
import { SubscriberStore } from './subscribers.js';
import { TaskStore } from './tasks.js';

export type { CardRow, DigestRow, TaskRow } from './store-context.js';
export type { NewCard, NewTask, WatchedCard } from './cards.js';
export { INTEREST_MS } from './tasks.js';

/**
 * The persistent state, one part per thing it holds: tasks and the cards showing them (with the
 * people waiting on them), digests, inbound ids and the commands owed an answer, replicas. One implementation over kysely
 * serves SQLite and PostgreSQL with the same queries; only the row locking hint differs
 * (PostgreSQL skips rows another replica is claiming).
 */
export class Store implements StoreContext {
  readonly prepared = new PreparedQueries();
  readonly tasks = new TaskStore(this);
  readonly cards = new CardStore(this);
  readonly subscribers = new SubscriberStore(this);
  readonly digests = new DigestStore(this);
  readonly forms = new FormStore(this);
  readonly retention = new RetentionStore(this);
  readonly inbox = new InboxStore(this);
  readonly replicas = new ReplicaStore(this);

  constructor(
    readonly db: Kysely<Database>,
    readonly dialect: 'sqlite' | 'postgres',
  ) {}

  async close(): Promise<void> {
    await this.db.destroy();
  }

  /** A cheap round trip: is the database reachable? */
  async ping(): Promise<void> {
    await this.db.selectFrom('dedupe').select('key').limit(1).execute();
  }

  /** Deletes expired dedupe keys and script API idempotency keys. */
  async purgeExpired(now: number): Promise<number> {
    const r = await this.db.deleteFrom('dedupe').where('expires_at', '<', now).executeTakeFirst();
    const a = await this.db.deleteFrom('api_requests').where('expires_at', '<', now).executeTakeFirst();
    return Number(r.numDeletedRows) + Number(a.numDeletedRows);
  }
}

import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

/** Migrations in code: the same DDL (through kysely's schema builder) on SQLite and PostgreSQL. */
const migrations: Record<string, Migration> = {
  '001_initial': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('tasks')
        .addColumn('task_key', 'text', (c) => c.primaryKey())
        .addColumn('platform', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('task_id', 'text', (c) => c.notNull())
        .addColumn('operator', 'text')
        .addColumn('snapshot', 'text', (c) => c.notNull())
        .addColumn('snapshot_hash', 'text', (c) => c.notNull())
        .addColumn('active', 'integer', (c) => c.notNull())
        .addColumn('next_due_at', 'bigint', (c) => c.notNull())
        .addColumn('backoff_ms', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_changed_at', 'bigint', (c) => c.notNull())
        .addColumn('error_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_error', 'text')
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', 'bigint')
        .execute();
      await db.schema.createIndex('tasks_due').on('tasks').columns(['active', 'next_due_at']).execute();

      await db.schema
        .createTable('cards')
        .addColumn('card_key', 'text', (c) => c.primaryKey())
        .addColumn('platform', 'text', (c) => c.notNull())
        .addColumn('handle', 'text', (c) => c.notNull())
        .addColumn('chat_id', 'text', (c) => c.notNull())
        .addColumn('task_key', 'text', (c) => c.notNull())
        .addColumn('locale', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('rendered_hash', 'text')
        .addColumn('last_update_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('meta', 'text')
        .execute();
      await db.schema.createIndex('cards_task').on('cards').columns(['task_key', 'status']).execute();
      await db.schema.createIndex('cards_chat').on('cards').columns(['platform', 'chat_id', 'created_at']).execute();

      await db.schema
        .createTable('digests')
        .addColumn('chat_key', 'text', (c) => c.primaryKey())
        .addColumn('platform', 'text', (c) => c.notNull())
        .addColumn('chat_id', 'text', (c) => c.notNull())
        .addColumn('cron', 'text', (c) => c.notNull())
        .addColumn('time_zone', 'text', (c) => c.notNull())
        .addColumn('locale', 'text', (c) => c.notNull())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('last_fired_at', 'bigint')
        .addColumn('next_fire_at', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', 'bigint')
        .execute();

      await db.schema
        .createTable('dedupe')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('dedupe_expiry').on('dedupe').column('expires_at').execute();
    },
  },
  '002_digest_attempts': {
    // A digest is recorded as sent only once it was sent; failed sends are counted and retried.
    async up(db: Kysely<any>) {
      await db.schema
        .alterTable('digests')
        .addColumn('failed_attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  },
  '003_card_lifecycle': {
    // Cards record what the platform shows and their own send failures; a task knows whether any
    // card still owes a final rendering and whether someone asked for it while it was leased.
    async up(db: Kysely<any>) {
      await db.schema.alterTable('cards').addColumn('shown', 'text').execute();
      await db.schema
        .alterTable('cards')
        .addColumn('fail_count', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable('cards').addColumn('retry_at', 'bigint').execute();
      await sql`UPDATE cards SET shown = status`.execute(db);
      await db.schema
        .alterTable('tasks')
        .addColumn('pending', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable('tasks')
        .addColumn('poked', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('tasks_pending').on('tasks').columns(['pending', 'next_due_at']).execute();
      // Retention deletes ended cards by age; `list` reads a chat's recent cards.
      await db.schema.createIndex('cards_ended').on('cards').columns(['status', 'created_at']).execute();
    },
  },
  '004_follow_through': {
    // People waiting for a card's task to end; per-chat settings; a task's progress history (for
    // the time-left estimate); a card's own title (from the script API); script API idempotency keys.
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('subscribers')
        .addColumn('card_key', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('notified_at', 'bigint')
        .addPrimaryKeyConstraint('subscribers_pk', ['card_key', 'user_id'])
        .execute();
      await db.schema
        .createTable('chat_settings')
        .addColumn('chat_key', 'text', (c) => c.primaryKey())
        .addColumn('platform', 'text', (c) => c.notNull())
        .addColumn('chat_id', 'text', (c) => c.notNull())
        .addColumn('locale', 'text')
        .addColumn('notify_default', 'integer')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('api_requests')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('body_hash', 'text', (c) => c.notNull())
        .addColumn('status', 'integer', (c) => c.notNull())
        .addColumn('response', 'text')
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.alterTable('tasks').addColumn('history', 'text').execute();
      await db.schema.alterTable('cards').addColumn('title', 'text').execute();
    },
  },
  '005_interest': {
    // Until when someone's recent interest (a Refresh, a second `status`) makes the task poll faster.
    async up(db: Kysely<any>) {
      await db.schema.alterTable('tasks').addColumn('interest_until', 'bigint').execute();
    },
  },
  '006_replicas': {
    // Replicas count each other, to take an equal share of the app's limits.
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('replicas')
        .addColumn('owner', 'text', (c) => c.primaryKey())
        .addColumn('seen_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  '007_faults': {
    // A command acknowledged to its platform is kept (with the holder's lease) until it is answered:
    // a replica that dies leaves it to another. Script API keys are leased while worked, not locked.
    // A card remembers a send refused for want of the admin (a scope), to say so; a mention records
    // that it is about to go out, so one that cannot be deduplicated is never sent twice. A task says
    // which replica's card queue holds its owed writes, for another to take over when that one dies.
    async up(db: Kysely<any>) {
      await db.schema.alterTable('dedupe').addColumn('payload', 'text').execute();
      await db.schema.alterTable('dedupe').addColumn('lease_owner', 'text').execute();
      await db.schema.alterTable('dedupe').addColumn('lease_until', 'bigint').execute();
      await db.schema
        .alterTable('dedupe')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('dedupe_owed').on('dedupe').column('lease_until').where(sql.ref('payload'), 'is not', null).execute();
      await db.schema.alterTable('api_requests').addColumn('lease_owner', 'text').execute();
      await db.schema.alterTable('api_requests').addColumn('lease_until', 'bigint').execute();
      await db.schema.alterTable('cards').addColumn('last_error', 'text').execute();
      await db.schema.alterTable('subscribers').addColumn('mention_at', 'bigint').execute();
      await db.schema.alterTable('tasks').addColumn('held_by', 'text').execute();
      await db.schema.createIndex('tasks_held').on('tasks').column('held_by').where(sql.ref('held_by'), 'is not', null).execute();
    },
  },
  '008_stop_rule': {
    // Who may stop a card: the person who asked for it (null: a script posted it), and a chat's own rule.
    async up(db: Kysely<any>) {
      await db.schema.alterTable('cards').addColumn('asked_by', 'text').execute();
      await db.schema.alterTable('chat_settings').addColumn('stop_rule', 'text').execute();
      await db.schema.createIndex('cards_asked_by').on('cards').columns(['asked_by', 'platform']).execute();
    },
  },
  '009_pin': {
    // A chat may keep its live cards pinned; a card remembers that taskbot pinned it (to unpin it
    // when it ends, whichever replica and whenever), a chat why pinning was refused (told once).
    async up(db: Kysely<any>) {
      await db.schema.alterTable('cards').addColumn('pinned', 'integer').execute();
      await db.schema.alterTable('chat_settings').addColumn('pin', 'integer').execute();
      await db.schema.alterTable('chat_settings').addColumn('pin_blocked', 'text').execute();
    },
  },
  '010_digest_planned': {
    // When a digest's next firing was worked out: a clock that went back past that moment may have
    // skipped a firing that now lies ahead (null: planned before this was kept).
    async up(db: Kysely<any>) {
      await db.schema.alterTable('digests').addColumn('planned_at', 'bigint').execute();
    },
  },
  '011_forms': {
    // The chat each form card was delivered to, so a submission acts there only (ids from the client are not trusted).
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('forms')
        .addColumn('form_key', 'text', (c) => c.primaryKey())
        .addColumn('platform', 'text', (c) => c.notNull())
        .addColumn('chat_id', 'text', (c) => c.notNull())
        .addColumn('for_user', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('forms_created').on('forms').column('created_at').execute();
    },
  },
  '012_apps': {
    // Several apps (DESIGN §8): every chat's rows belong to one app. Rows made before belong to the
    // apps the single-app variables define, named for their platform (keys of the form
    // `platform:…` are already theirs).
    async up(db: Kysely<any>) {
      for (const table of ['cards', 'tasks', 'digests', 'chat_settings', 'forms']) {
        await db.schema
          .alterTable(table)
          .addColumn('app', 'text', (c) => c.notNull().defaultTo(''))
          .execute();
        await db
          .updateTable(table)
          .set({ app: sql.ref('platform') })
          .execute();
      }
      await db.schema.dropIndex('cards_chat').execute();
      await db.schema.createIndex('cards_chat').on('cards').columns(['app', 'chat_id', 'created_at']).execute();
      await db.schema.dropIndex('cards_asked_by').execute();
      await db.schema.createIndex('cards_asked_by').on('cards').columns(['asked_by', 'app']).execute();
    },
  },
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};

/** Used by tests to start from nothing. */
export async function dropAll(db: Kysely<any>): Promise<void> {
  for (const t of [
    'cards',
    'forms',
    'tasks',
    'digests',
    'dedupe',
    'subscribers',
    'chat_settings',
    'api_requests',
    'replicas',
    'kysely_migration',
    'kysely_migration_lock',
  ]) {
    await sql`DROP TABLE IF EXISTS ${sql.table(t)}`.execute(db);
  }
}

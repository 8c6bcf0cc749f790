import { Kysely, Migrator, SqliteDialect } from 'kysely';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { migrationProvider } from '../../src/store/migrations.js';
import { openStore } from '../../src/store/open.js';
import { OwnSchemaPostgresDialect } from '../../src/store/pg-dialect.js';
import type { Store } from '../../src/store/store.js';
import { getChatSettings } from '../../src/store/chat-settings.js';
import { dropFreshStore, freshStoreUrl, STORE_KINDS } from '../helpers/stores.js';

/** The last migration of the release before several apps: its database is what an upgrade finds. */
const RELEASE_SCHEMA = '011_forms';

/** A database as the single-app release left it: its own migrations only, rows written in its shapes. */
async function releaseDatabase(url: string): Promise<void> {
  const db = url.startsWith('sqlite:')
    ? new Kysely<any>({ dialect: new SqliteDialect({ database: new BetterSqlite3(url.slice('sqlite:'.length)) }) })
    : new Kysely<any>({ dialect: new OwnSchemaPostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }) });
  try {
    const { error } = await new Migrator({ db, provider: migrationProvider }).migrateTo(RELEASE_SCHEMA);
    if (error) throw error;
    const snapshot = (platform: string, kind: string, id: string) =>
      JSON.stringify({ ref: { platform, kind, id }, state: 'running', label: 'move', fetchedAt: new Date(0).toISOString() });
    const task = (platform: string, kind: string, id: string) => ({
      task_key: `${platform}:${kind}:${id}`,
      platform,
      kind,
      task_id: id,
      operator: null,
      snapshot: snapshot(platform, kind, id),
      snapshot_hash: 'h',
      active: 1,
      next_due_at: 1000,
      backoff_ms: 2000,
      created_at: 0,
      last_changed_at: 0,
      error_count: 0,
    });
    await db
      .insertInto('tasks')
      .values([task('feishu', 'drive', 't1'), task('dingtalk', 'doc', 't2')])
      .execute();
    const card = (platform: string, handle: string, chat: string, taskKey: string) => ({
      card_key: `${platform}:${handle}`,
      platform,
      handle,
      chat_id: chat,
      task_key: taskKey,
      locale: 'en',
      status: 'active',
      created_at: 10,
      asked_by: 'ou_asker',
    });
    await db
      .insertInto('cards')
      .values([card('feishu', 'om_1', 'oc_shared', 'feishu:drive:t1'), card('dingtalk', 'dt_1', 'cid_shared', 'dingtalk:doc:t2')])
      .execute();
    await db.insertInto('subscribers').values({ card_key: 'feishu:om_1', user_id: 'ou_sub', created_at: 10 }).execute();
    await db
      .insertInto('chat_settings')
      .values({ chat_key: 'feishu:oc_shared', platform: 'feishu', chat_id: 'oc_shared', locale: 'en', pin: 1, updated_at: 5 })
      .execute();
    await db
      .insertInto('digests')
      .values({
        chat_key: 'dingtalk:cid_shared',
        platform: 'dingtalk',
        chat_id: 'cid_shared',
        cron: '0 9 * * *',
        time_zone: 'Asia/Shanghai',
        locale: 'zh',
        spec: 'daily 09:00',
        next_fire_at: 5000,
        created_at: 0,
      })
      .execute();
    await db.insertInto('forms').values({ form_key: 'dingtalk:form_1', platform: 'dingtalk', chat_id: 'cid_shared', for_user: null, created_at: 10 }).execute();
  } finally {
    await db.destroy();
  }
}

describe.each(STORE_KINDS)('upgrading a single-app database (%s)', (kind) => {
  let store: Store | undefined;
  let url = '';
  afterEach(async () => {
    await store?.close();
    store = undefined;
    await dropFreshStore(url);
  });

  it('every row made before belongs to the app its platform names, and another app sees none of it', async () => {
    url = await freshStoreUrl(kind);
    if (kind === 'sqlite') {
      const { mkdirSync } = await import('node:fs');
      const { dirname } = await import('node:path');
      mkdirSync(dirname(url.slice('sqlite:'.length)), { recursive: true });
    }
    await releaseDatabase(url);
    store = await openStore(url);

    expect(await store.cards.get('feishu:om_1')).toMatchObject({ app: 'feishu', platform: 'feishu', chat_id: 'oc_shared', status: 'active' });
    expect(await store.cards.get('dingtalk:dt_1')).toMatchObject({ app: 'dingtalk', platform: 'dingtalk' });
    const feishuChat = await store.cards.overview({ app: 'feishu', chatId: 'oc_shared', endedLimit: 10 });
    expect(feishuChat.cards.map((c) => c.card_key)).toEqual(['feishu:om_1']);
    const mine = await store.cards.overview({ app: 'feishu', askedBy: 'ou_asker', endedLimit: 10 });
    expect(mine.cards.map((c) => c.card_key)).toEqual(['feishu:om_1']);
    // A second Feishu app in the same group (the tenant's chat id) finds nothing of the first's.
    expect((await store.cards.overview({ app: 'lark', chatId: 'oc_shared', endedLimit: 10 })).cards).toEqual([]);
    expect((await store.cards.overview({ app: 'lark', askedBy: 'ou_asker', endedLimit: 10 })).cards).toEqual([]);

    expect(await getChatSettings(store, { app: 'feishu', platform: 'feishu', chatId: 'oc_shared' })).toMatchObject({ locale: 'en', pin: true });
    expect(await getChatSettings(store, { app: 'lark', platform: 'feishu', chatId: 'oc_shared' })).toEqual({});
    expect(await store.forms.get('dingtalk:form_1')).toMatchObject({ app: 'dingtalk', chat_id: 'cid_shared' });
    expect(await store.digests.claimDue('r1', 6000, 60_000)).toMatchObject([{ app: 'dingtalk', chat_key: 'dingtalk:cid_shared' }]);
    const due = await store.tasks.claimDue('r1', 2000, 60_000, 10);
    expect(due.map((t) => [t.task_key, t.app]).sort()).toEqual([
      ['dingtalk:doc:t2', 'dingtalk'],
      ['feishu:drive:t1', 'feishu'],
    ]);
  });
});

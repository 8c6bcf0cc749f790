import type { Kysely, Selectable } from 'kysely';
import type { PreparedQueries } from './prepared.js';
import type { CardTable, Database, DigestTable, TaskTable } from './schema.js';

/** What every part of the store works with: the database, its dialect and the queries built once per shape. */
export interface StoreContext {
  readonly db: Kysely<Database>;
  readonly dialect: 'sqlite' | 'postgres';
  readonly prepared: PreparedQueries;
}

export type CardRow = Selectable<CardTable>;
export type TaskRow = Selectable<TaskTable>;
export type DigestRow = Selectable<DigestTable>;

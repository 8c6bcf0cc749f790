import { PostgresDialect, PostgresIntrospector, sql, type DatabaseIntrospector, type Kysely, type TableMetadata } from 'kysely';

/**
 * Kysely's PostgreSQL dialect whose introspector sees only the current schema. Its own lists the
 * tables of every schema in the database, looking each up by name: in a database shared with
 * others (other taskbots in their own schemas, other apps) a schema dropped meanwhile failed our
 * start with 3F000 naming a schema that was not ours. The Migrator only asks whether its tables
 * exist in ours; tables are listed without their columns, which it never reads.
 */
export class OwnSchemaPostgresDialect extends PostgresDialect {
  override createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new OwnSchemaIntrospector(db);
  }
}

class OwnSchemaIntrospector extends PostgresIntrospector {
  constructor(private readonly database: Kysely<unknown>) {
    super(database);
  }

  override async getTables(): Promise<TableMetadata[]> {
    const { rows } = await sql<{ name: string; schema: string; kind: string }>`
      select c.relname as name, n.nspname as schema, c.relkind as kind
      from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and c.relkind in ('r', 'v', 'm', 'p', 'f')`.execute(this.database);
    return rows.map((r) => ({ name: r.name, schema: r.schema, isView: r.kind === 'v' || r.kind === 'm', columns: [] }));
  }
}

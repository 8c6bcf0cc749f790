import { sql, type Compilable, type CompiledQuery, type Insertable, type Kysely, type QueryResult } from 'kysely';
import type { Database } from './schema.js';

/** Stands for the i-th value while a query is compiled: found again among its parameters. */
const mark = (i: number) => `\u0000taskbot-value-${i}\u0000`;

interface Plan {
  compiled: CompiledQuery;
  /** [parameter index, value index] */
  slots: [number, number][];
}

/**
 * Kysely builds and compiles every query anew, and on the hot paths (a card update runs half a
 * dozen queries) that was most of the store's CPU and most of the process's garbage. A query of
 * fixed shape is built once per store, with marks for its values, and run with the values put in.
 * Strict: a value that did not become a parameter (compiled into the SQL text) throws at once.
 */
export class PreparedQueries {
  private readonly plans = new Map<string, Plan>();

  /**
   * Runs the query `build` makes of `values`; `shape` names it with everything that changes its
   * SQL (a list's length, which columns a patch sets). `on` may be a transaction of the same database.
   */
  async run<const A extends readonly unknown[], R>(
    on: Pick<Kysely<Database>, 'executeQuery'>,
    shape: string,
    values: A,
    build: (...values: A) => Compilable<R>,
  ): Promise<QueryResult<R>> {
    let plan = this.plans.get(shape);
    if (!plan) {
      plan = compile(shape, values.length, build as unknown as (...marks: unknown[]) => Compilable<R>);
      this.plans.set(shape, plan);
    }
    const parameters = plan.compiled.parameters.slice();
    for (const [p, v] of plan.slots) parameters[p] = values[v];
    return on.executeQuery<R>({ ...plan.compiled, parameters });
  }

  /**
   * Inserts `row` (its columns are values, an undefined one is left out as kysely does; which columns
   * and `conflict` are the shape). On a conflict over `conflict.key`: nothing, or the `update` columns
   * take the row's values.
   */
  insert<T extends keyof Database & string>(
    on: Kysely<Database>,
    table: T,
    row: Insertable<Database[T]>,
    conflict: { key: keyof Database[T] & string; update?: readonly (keyof Database[T] & string)[] },
  ): Promise<QueryResult<unknown>> {
    const given = Object.entries(row).filter(([, v]) => v !== undefined);
    const columns = given.map(([c]) => c);
    const values = given.map(([, v]) => v as unknown);
    const shape = `insert:${table}:${columns}:${conflict.key}:${conflict.update ?? ''}`;
    return this.run(on, shape, values, (...v: unknown[]) =>
      (on as unknown as Kysely<Record<string, Record<string, unknown>>>)
        .insertInto(table)
        .values(Object.fromEntries(columns.map((c, i) => [c, v[i]])))
        .onConflict((oc) => {
          const target = oc.column(conflict.key);
          const update = conflict.update;
          return update ? target.doUpdateSet(Object.fromEntries(update.map((c) => [c, sql.ref(`excluded.${c}`)])) as never) : target.doNothing();
        }),
    );
  }
}

function compile<R>(shape: string, n: number, build: (...marks: unknown[]) => Compilable<R>): Plan {
  const marks = Array.from({ length: n }, (_, i) => mark(i));
  const compiled = build(...marks).compile();
  const slots: [number, number][] = [];
  compiled.parameters.forEach((p, i) => {
    const v = marks.indexOf(p as string);
    if (v >= 0) slots.push([i, v]);
  });
  for (let v = 0; v < n; v++) {
    if (!slots.some(([, s]) => s === v) || compiled.sql.includes(marks[v]!)) throw new Error(`prepared query ${shape}: value ${v} is not a parameter`);
  }
  return { compiled, slots };
}

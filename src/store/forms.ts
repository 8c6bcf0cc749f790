import type { Selectable } from 'kysely';
import type { StoreContext } from './store-context.js';
import type { FormTable } from './schema.js';

export type FormRow = Selectable<FormTable>;

/** Where taskbot delivered its form cards (see FormTable). */
export class FormStore {
  constructor(private readonly ctx: StoreContext) {}

  /** Records a delivery; a repeat of the same delivery (a retried answer) keeps the first. */
  async add(row: FormRow): Promise<void> {
    await this.ctx.db
      .insertInto('forms')
      .values(row)
      .onConflict((oc) => oc.column('form_key').doNothing())
      .execute();
  }

  get(formKey: string): Promise<FormRow | undefined> {
    return this.ctx.db.selectFrom('forms').selectAll().where('form_key', '=', formKey).executeTakeFirst();
  }
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCardCallback, readFormSubmission, refilledForm } from '../../../src/platforms/dingtalk/card-callback.js';
import { TrackFormValues } from '../../../src/platforms/form-values.js';
import { FakeDingtalkIm } from '../../../src/sandbox/fake-dingtalk-im.js';

const real = (f: string) => readFileSync(join(import.meta.dirname, '../../fixtures/real/dingtalk', f), 'utf8');
/** The official form example's callback (表单组件的使用与更新): every field type the Form component has. */
const EXAMPLE = readCardCallback(real('form-callback.json'))!;
const exampleForm = EXAMPLE.params.form as Record<string, unknown>;
const exampleFields = (
  EXAMPLE.params.current_form as {
    fields: { name: string; type: string; hidden?: boolean; required?: boolean; defaultValue?: unknown; options?: { value: string }[] }[];
  }
).fields;

describe('DingTalk card callbacks: buttons and the Track a task form', () => {
  it('reads a button press (content as a JSON text) and a form submission (params.form) apart', async () => {
    const press = readCardCallback(real('card-callback.json'))!;
    expect(press).toMatchObject({ outTrackId: 'tb-00000000-0000-0000-0000-000000000000', actionIds: ['refresh'], params: { action: 'refresh' } });
    const unionIdOf = async (staffId: string) => `union-of-${staffId}`;
    expect(readFormSubmission(press, 'm1', unionIdOf)).toBeUndefined();
    // The example's form is a form: it names no chat (the app refuses it, as no form of ours was delivered as it).
    expect(readFormSubmission(EXAMPLE, 'm2', unionIdOf)).toMatchObject({ cmd: { chatId: '' }, delivered: 'dingtalk:example-form-card' });
    // Content already an object, a form sent as a JSON text, and junk, all read without throwing.
    const obj = readCardCallback(
      JSON.stringify({
        outTrackId: 'o',
        userId: 'u',
        content: { cardPrivateData: { params: { form: JSON.stringify({ chat: 'cidA==', task_id: 'copy-1' }) } } },
      }),
    )!;
    const read = readFormSubmission(obj, 'm3', unionIdOf)!;
    expect(read).toMatchObject({
      cmd: { chatId: 'cidA==', userId: 'u', text: 'status copy-1', reply: { idempotencyKey: 'dingtalk:form:m3' } },
      keys: ['dingtalk:form:m3'],
      delivered: 'dingtalk:o',
    });
    // Storage tasks are read as the submitter, as a typed command is.
    expect(await read.cmd.operator!()).toBe('union-of-u');
    for (const junk of [
      '',
      'null',
      '{"outTrackId":null}',
      JSON.stringify({ outTrackId: 'o', content: '{not json' }),
      JSON.stringify({ outTrackId: 'o', content: { cardPrivateData: { params: { form: [1] } } } }),
    ]) {
      const cb = readCardCallback(junk);
      expect(cb === undefined || readFormSubmission(cb, 'm', unionIdOf) === undefined).toBe(true);
    }
  });

  it("reads the kind as the client sends a SELECT ({index, value}, the example's shape) and as a plain value", () => {
    expect(exampleForm.select_readonly).toEqual({ index: 3, value: '4' });
    expect(TrackFormValues.parse({ task_id: ' a ', kind: exampleForm.select_readonly, notify: exampleForm.checkbox_readonly })).toEqual({
      task_id: 'a',
      kind: '4',
      notify: true,
    });
    expect(TrackFormValues.parse({ task_id: 12345, kind: 'doc' })).toEqual({ task_id: '12345', kind: 'doc', notify: false });
    expect(TrackFormValues.parse({ kind: { index: -1 }, notify: 'yes' })).toEqual({ task_id: '', kind: 'detect', notify: false });
  });

  it('our fake submits a form in the shapes of the official example, and refuses a required field left empty as the client does', () => {
    const im = new FakeDingtalkIm();
    im.cards.set('c', {
      outTrackId: 'c',
      templateId: 't',
      openSpaceId: 'dtv1.card//IM_GROUP.cidA==',
      params: { form: JSON.stringify({ fields: exampleFields }) },
      history: [],
    });
    // What a person picks: the option values (one, or several), as the console's inputs give them.
    const entered: Record<string, string | boolean | string[]> = {};
    for (const f of exampleFields)
      if (!f.hidden && f.name in exampleForm)
        entered[f.name] =
          typeof exampleForm[f.name] === 'object' ? (exampleForm[f.name] as { value: string | string[] }).value : (exampleForm[f.name] as string | boolean);
    const { form, current_form } = im.formSubmission('c', 'u', entered);
    expect(form).toEqual(exampleForm);
    expect(current_form).toEqual(EXAMPLE.params.current_form);
    expect(() => im.formSubmission('c', 'u', { ...entered, text: '' })).toThrow('text is required');
  });

  it('a refused form is drawn again with what was entered, as the example does, unless it would not fit a template value', () => {
    const ours = {
      fields: [
        { name: 'chat', type: 'TEXT', hidden: true, defaultValue: 'cidA==' },
        { name: 'task_id', type: 'TEXT', required: true },
        { name: 'kind', type: 'SELECT', options: [{ value: 'detect', text: 'd' }] },
      ],
    };
    const again = JSON.parse(refilledForm({ current_form: ours }, { chat: 'cidA==', task_id: 'bad id', kind: { index: 0, value: 'detect' } })!) as typeof ours;
    expect(again.fields.map((f) => (f as { defaultValue?: unknown }).defaultValue)).toEqual(['cidA==', 'bad id', { index: 0, value: 'detect' }]);
    // current_form as a JSON text is read too; the example's own form (about 3 KB) does not fit 1 KB: no refill, the client keeps what was typed.
    expect(refilledForm({ current_form: JSON.stringify(ours) }, { task_id: 'x' })).toContain('"defaultValue":"x"');
    expect(refilledForm(EXAMPLE.params, exampleForm)).toBeUndefined();
    expect(refilledForm({}, {})).toBeUndefined();
  });
});

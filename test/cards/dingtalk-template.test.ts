import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DINGTALK_PARAM_MAX_BYTES, FORM_KEYS, renderCardParams, renderFormParams, renderTopBoxParams, TOP_BOX_KEYS } from '../../src/cards/dingtalk.js';
import { helpCard } from '../../src/commands/help.js';
import { sampleCards } from '../helpers/card-samples.js';

const EXPORT = JSON.parse(readFileSync(join(import.meta.dirname, '../../cards/dingtalk/taskbot-card.json'), 'utf8')) as Record<string, unknown>;
const editor = JSON.parse(String(EXPORT.editorData)) as {
  schema: { componentsTree: Node[] };
  variableList: { name: string; id: string; private: boolean }[];
  mockData: { cardData: Record<string, string> };
};
interface Node {
  componentName: string;
  props: Record<string, unknown>;
  children?: Node[];
}
const layout = String(EXPORT.widgetInfo);
const declared = new Set(editor.variableList.map((v) => v.name));
const nodes = (n: Node[]): Node[] => n.flatMap((x) => [x, ...nodes(x.children ?? [])]);

describe('cards/dingtalk/taskbot-card.json, the importable template', () => {
  it('has the card platform export shape (as its official helloworld example): editor data, layout, standard message card', () => {
    expect(Object.keys(EXPORT).sort()).toEqual(['editorData', 'mode', 'type', 'widgetInfo']);
    expect(EXPORT).toMatchObject({ type: 'standard', mode: 'card' });
    expect(editor.schema.componentsTree[0]!.componentName).toBe('StdCard');
  });

  it('declares every variable the renderer fills, as public card data', () => {
    const filled = new Set(Object.values(sampleCards('zh')).flatMap((c) => Object.keys(renderCardParams(c))));
    for (const name of filled) expect(declared, name).toContain(name);
    expect(editor.variableList.every((v) => !v.private && v.id === v.name)).toBe(true);
    expect(Object.keys(editor.mockData.cardData).sort()).toEqual([...declared].sort());
  });

  it('reads only declared variables, in the designer tree and in the layout', () => {
    const tree = JSON.stringify(editor.schema.componentsTree);
    const used = new Set([
      ...[...tree.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]!),
      ...[...tree.matchAll(/"variable":"(\w+)"/g)].map((m) => m[1]!),
      ...[...layout.matchAll(/data\.cardData\.(\w+)/g)].map((m) => m[1]!),
    ]);
    expect(used.size).toBeGreaterThan(8);
    for (const name of used) expect(declared, name).toContain(name);
  });

  it.each([
    ['refresh', 'showRefresh', 'refreshLabel'],
    ['stop', 'showStop', 'stopLabel'],
    ['notify', 'showNotify', 'notifyLabel'],
  ])('binds the %s button as a callback carrying action=%s, shown by %s', (action, show, label) => {
    const buttons = nodes(editor.schema.componentsTree).find((n) => n.componentName === 'ButtonBlock')!.props.buttons as Record<string, unknown>[];
    const b = buttons.find((x) => x.id === action)!;
    expect(b).toMatchObject({
      actionType: 'request',
      actionId: { content: action },
      params: [{ type: 'fixed', name: 'action', value: action }],
      text: { content: `\${${label}}` },
      visible: { valueType: 'condition', condition: { conditions: [{ variable: show, op: 'equal', value: 'true' }] } },
    });
    // The compiled layout sends what src/platforms/dingtalk/handlers.ts reads: cardPrivateData.params.action and actionIds.
    const press = layout.replace(/&#039;/g, "'");
    expect(press).toContain(`'actionId','${action}'`);
    expect(press).toContain(`'params',@dtMapAppend{null,'action','${action}'},'actionIds',@dtArrayAppend{null,'${action}'}`);
    expect(press).toContain(`@equal{@toStr{@data{data.cardData.${show}}},'true'}`);
  });
});

describe('cards/dingtalk/taskbot-topbox.json, the importable top-box (吊顶) template', () => {
  const top = JSON.parse(readFileSync(join(import.meta.dirname, '../../cards/dingtalk/taskbot-topbox.json'), 'utf8')) as Record<string, unknown>;
  const ed = JSON.parse(String(top.editorData)) as typeof editor;
  const names = new Set(ed.variableList.map((v) => v.name));

  it('is a top-box card (type onebox, as the official 吊顶 example exports it) with a Card root', () => {
    expect(Object.keys(top).sort()).toEqual(['editorData', 'mode', 'type', 'widgetInfo']);
    expect(top).toMatchObject({ type: 'onebox', mode: 'card' });
    expect(ed.schema.componentsTree[0]!.componentName).toBe('Card');
  });

  it('declares exactly what the top box is sent, and reads only that', () => {
    const sent = new Set(Object.values(sampleCards('zh')).flatMap((c) => Object.keys(renderTopBoxParams(c))));
    expect([...names].sort()).toEqual([...sent].sort());
    expect([...sent].sort()).toEqual([...TOP_BOX_KEYS].sort());
    expect(Object.keys(ed.mockData.cardData).sort()).toEqual([...names].sort());
    const used = [...String(top.widgetInfo).matchAll(/data\.cardData\.(\w+)/g), ...JSON.stringify(ed.schema.componentsTree).matchAll(/\$\{(\w+)\}/g)].map(
      (m) => m[1]!,
    );
    expect(new Set(used)).toEqual(new Set(['title', 'state', 'color', 'progressText']));
    for (const name of used) expect(names, name).toContain(name);
  });
});

describe('cards/dingtalk/taskbot-form.json, the importable Track a task form template', () => {
  const exp = JSON.parse(readFileSync(join(import.meta.dirname, '../../cards/dingtalk/taskbot-form.json'), 'utf8')) as Record<string, unknown>;
  const ed = JSON.parse(String(exp.editorData)) as typeof editor & { schema: { componentsMap: { componentName: string; devMode?: string }[] } };
  const vars = new Map(ed.variableList.map((v) => [v.name, v]));
  const form = nodes(ed.schema.componentsTree).find((n) => n.componentName === 'Form')!;

  it('is an IM card with the low-code Form component (as the official example 表单组件的使用与更新 exports it) under a Card root', () => {
    expect(Object.keys(exp).sort()).toEqual(['editorData', 'mode', 'type', 'widgetInfo']);
    expect(exp).toMatchObject({ type: 'im', mode: 'card' });
    expect(ed.schema.componentsTree[0]!.componentName).toBe('Card');
    expect(ed.schema.componentsMap).toContainEqual({ devMode: 'lowCode', componentName: 'Form' });
    // The form draws the fields it is sent, sends back the form as drawn (for the refill), and its state and button text are data.
    expect(form.props).toMatchObject({
      formSchema: { variable: 'form', type: 'variableValue' },
      params: [{ type: 'variable', variable: 'form', name: 'current_form' }],
      status: { valueType: 'variable', variable: 'form_status' },
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the card platform's own placeholder
      submitText: { content: '${form_btn_text}' },
      actionType: 'request',
    });
    // Clients without the Form component draw the compiled layout: it says what to do instead.
    expect(String(exp.widgetInfo)).toContain('status &lt;task id&gt;');
  });

  it("declares exactly what it is sent; the form and the note are private (the answer to a submission is the submitter's alone)", () => {
    const sent = Object.keys(renderFormParams(helpCard('zh', 'dingtalk').form!, 'cidA=='));
    expect([...vars.keys()].sort()).toEqual([...sent].sort());
    expect([...sent].sort()).toEqual([...FORM_KEYS].sort());
    expect(Object.keys(ed.mockData.cardData).sort()).toEqual([...sent].sort());
    expect(['form', 'form_status', 'form_btn_text', 'note'].every((k) => vars.get(k)!.private)).toBe(true);
    expect(vars.get('title')!.private).toBe(false);
    const used = [...JSON.stringify(ed.schema.componentsTree).matchAll(/\$\{(\w+)\}|"variable":"(\w+)"/g)].map((m) => m[1] ?? m[2]!);
    expect(new Set(used)).toEqual(new Set(['title', 'form', 'form_status', 'form_btn_text', 'note']));
  });

  it.each(['zh', 'en'] as const)('the %s form fits a template value and names its fields as the callback reader reads them', (locale) => {
    const p = renderFormParams(helpCard(locale, 'dingtalk').form!, `user:${'s'.repeat(64)}`);
    for (const v of Object.values(p)) expect(Buffer.byteLength(v)).toBeLessThanOrEqual(DINGTALK_PARAM_MAX_BYTES);
    const fields = (JSON.parse(p.form) as { fields: { name: string; type: string }[] }).fields;
    expect(fields.map((f) => f.name)).toEqual(['chat', 'task_id', 'kind', 'notify']);
  });
});

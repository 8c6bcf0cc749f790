/**
 * The card JSON 2.0 rules Feishu enforces that our renderers must keep (from Feishu's component
 * docs, PLATFORMS.md "More card and message features"): only known component tags; a form only at
 * the body's root, never inside a collapsible panel, with no form or table inside it and unique
 * input names; collapsible panels nested at most five deep; at most five charts a card, each with
 * a spec. Returns what is broken (empty: none).
 */
const TAGS = new Set([
  'div',
  'markdown',
  'plain_text',
  'column_set',
  'column',
  'hr',
  'button',
  'collapsible_panel',
  'chart',
  'form',
  'input',
  'checker',
  'select_static',
  'table',
  'text_tag',
  'standard_icon',
]);

export function feishuCardProblems(card: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (card.schema !== '2.0') problems.push('schema is not 2.0');
  let charts = 0;
  const walk = (node: unknown, path: string, o: { root: boolean; inForm: boolean; panels: number; names?: Set<string> }): void => {
    if (Array.isArray(node)) {
      for (const [i, n] of node.entries()) walk(n, `${path}[${i}]`, o);
      return;
    }
    if (!node || typeof node !== 'object') return;
    const el = node as Record<string, unknown>;
    const tag = typeof el.tag === 'string' ? el.tag : undefined;
    if (tag !== undefined && !TAGS.has(tag)) problems.push(`${path}: unknown tag ${tag}`);
    let next = { ...o, root: false };
    if (tag === 'form') {
      if (!o.root) problems.push(`${path}: a form only at the body's root`);
      if (o.inForm) problems.push(`${path}: a form inside a form`);
      if (o.panels > 0) problems.push(`${path}: a form inside a collapsible panel`);
      next = { ...next, inForm: true, names: new Set() };
    }
    if (tag === 'table' && o.inForm) problems.push(`${path}: a table inside a form`);
    if (tag === 'collapsible_panel') {
      next = { ...next, panels: o.panels + 1 };
      if (next.panels > 5) problems.push(`${path}: collapsible panels nested more than five deep`);
    }
    if (tag === 'chart') {
      charts++;
      if (!el.chart_spec || typeof el.chart_spec !== 'object') problems.push(`${path}: a chart without chart_spec`);
    }
    if ((tag === 'input' || tag === 'checker' || tag === 'select_static') && o.inForm) {
      const name = el.name;
      if (typeof name !== 'string' || !name) problems.push(`${path}: a form input without a name`);
      else if (o.names!.has(name)) problems.push(`${path}: input name ${name} used twice in one form`);
      else o.names!.add(name);
    }
    if (tag === 'button' && el.form_action_type !== undefined && !o.inForm) problems.push(`${path}: a submit button outside a form`);
    for (const [k, v] of Object.entries(el))
      if (k !== 'chart_spec' && typeof v === 'object') walk(v, `${path}.${k}`, k === 'elements' && path === 'body' ? { ...next, root: true } : next);
  };
  const body = card.body as { elements?: unknown } | undefined;
  walk(body?.elements, 'body.elements', { root: true, inForm: false, panels: 0 });
  if (charts > 5) problems.push(`${charts} charts: at most five a card`);
  return problems;
}

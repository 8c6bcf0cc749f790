// The sandbox console: draws what the bot really sent (Feishu card JSON 2.0, the DingTalk
// template's cardParamMap, markdown) and sends messages and button presses through the fakes.

const $ = (sel, root = document) => root.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) e.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return e;
};

const entries = new Map();
/** The app a message of the transcript belongs to: presses and forms go to that app's platform. */
const appOf = (id) => entries.get(id)?.app;

async function post(path, body) {
  const r = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return r.json();
}

function toast(text) {
  $('.toast').textContent = text || '';
}

// ---- Feishu card JSON 2.0 (the subset taskbot sends) -----------------------------------------

function feishuText(t) {
  if (!t) return '';
  return t.content ?? '';
}

function feishuElement(node, messageId) {
  switch (node.tag) {
    case 'div': {
      const t = node.text ?? {};
      const cls = [t.text_color === 'grey' ? 'grey' : '', t.text_size === 'heading' ? 'heading' : '', t.text_size === 'notation' ? 'notation' : ''].join(' ');
      return el('div', { class: cls }, feishuText(t));
    }
    case 'markdown':
      return el('div', {}, node.content ?? '');
    case 'column_set':
      return el(
        'div',
        { class: 'row' },
        (node.columns ?? []).map((c) =>
          el(
            'div',
            {},
            (c.elements ?? []).map((x) => feishuElement(x, messageId)),
          ),
        ),
      );
    case 'hr':
      return el('hr');
    case 'chart':
      return chart(node.chart_spec ?? {});
    case 'form':
      return trackForm(node, messageId);
    case 'collapsible_panel':
      return el(
        'details',
        { class: 'panel', ...(node.expanded && { open: '' }) },
        el('summary', {}, feishuText(node.header?.title)),
        (node.elements ?? []).map((x) => feishuElement(x, messageId)),
      );
    case 'button': {
      const action = node.behaviors?.find((b) => b.type === 'callback')?.value?.action;
      return el(
        'button',
        {
          class: node.type === 'primary' ? 'primary' : node.type === 'danger' ? 'danger' : '',
          'data-action': action,
          onclick: () => click(messageId, action),
        },
        feishuText(node.text),
      );
    }
    default:
      return el('div', { class: 'grey' }, `[${node.tag}]`);
  }
}

/** Draws the VChart spec Feishu gets (a line or bars over labelled points) as SVG: the same data, the same axis range. */
function chart(spec) {
  const values = spec.data?.[0]?.values ?? [];
  const left = (spec.axes ?? []).find((a) => a.orient === 'left') ?? {};
  const max = left.max ?? Math.max(1, ...values.map((v) => v[spec.yField]));
  const W = 320,
    H = 120,
    pad = 24;
  const x = (i) => pad + (values.length > 1 ? (i * (W - 2 * pad)) / (values.length - 1) : (W - 2 * pad) / 2);
  const y = (v) => H - pad - (v / max) * (H - 2 * pad);
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('class', `chart chart-${spec.type}`);
  const add = (tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    svg.append(e);
  };
  add('line', { x1: pad, y1: H - pad, x2: W - pad, y2: H - pad, class: 'axis' });
  if (spec.type === 'line') add('polyline', { points: values.map((v, i) => `${x(i)},${y(v[spec.yField])}`).join(' '), class: 'series' });
  else {
    const w = Math.max(4, (W - 2 * pad) / Math.max(1, values.length) - 8);
    for (const [i, v] of values.entries()) {
      add('rect', { x: pad + i * ((W - 2 * pad) / values.length) + 4, y: y(v[spec.yField]), width: w, height: H - pad - y(v[spec.yField]), class: 'bar' });
    }
  }
  for (const [i, v] of values.entries()) {
    add('text', { x: spec.type === 'line' ? x(i) : pad + (i + 0.5) * ((W - 2 * pad) / values.length), y: H - 8, class: 'tick' }, v[spec.xField]);
  }
  return el('div', { class: 'chart-box' }, el('div', { class: 'grey' }, spec.title?.text ?? ''), svg);
}

/** A card's form container: its inputs as HTML inputs; submitting sends the values as Feishu would (form_value). */
function trackForm(node, messageId) {
  const fields = (node.elements ?? []).map((x) => {
    switch (x.tag) {
      case 'input':
        return el('input', { name: x.name, placeholder: feishuText(x.placeholder), 'aria-label': feishuText(x.label) });
      case 'select_static':
        return el(
          'select',
          { name: x.name },
          (x.options ?? []).map((o) => el('option', { value: o.value, ...(o.value === x.initial_option && { selected: '' }) }, feishuText(o.text))),
        );
      case 'checker':
        return el('label', {}, el('input', { type: 'checkbox', name: x.name }), ` ${feishuText(x.text)}`);
      case 'button':
        return el('button', { type: 'submit', class: 'primary' }, feishuText(x.text));
      default:
        return feishuElement(x, messageId);
    }
  });
  return el(
    'form',
    {
      class: 'track-form',
      onsubmit: async (ev) => {
        ev.preventDefault();
        const f = ev.target;
        const values = { task_id: f.elements.task_id.value, kind: f.elements.kind.value, notify: f.elements.notify.checked };
        const r = await post('/console/form', { app: appOf(messageId), id: messageId, values });
        toast(r.toast);
      },
    },
    fields,
  );
}

function feishuCard(card, messageId, pinned) {
  const h = card.header ?? {};
  const tag = h.text_tag_list?.[0]?.text?.content;
  const body = card.body?.elements ?? [];
  // Buttons of the card (not of its form) go in the actions row.
  const buttons = body.filter((x) => x.tag === 'button');
  return el(
    'div',
    { class: 'card', 'data-card': messageId },
    el(
      'div',
      { class: `card-header t-${h.template ?? 'blue'}` },
      el('span', { class: 'title' }, feishuText(h.title)),
      pinned ? el('span', { class: 'tag pin' }, '📌') : null,
      tag ? el('span', { class: 'tag' }, tag) : null,
    ),
    el(
      'div',
      { class: 'card-body' },
      body.filter((x) => x.tag !== 'button').map((x) => feishuElement(x, messageId)),
      buttons.length
        ? el(
            'div',
            { class: 'card-actions' },
            buttons.map((b) => feishuElement(b, messageId)),
          )
        : null,
    ),
  );
}

// ---- DingTalk: our template (cards/dingtalk/template.json) and markdown ------------------------

/** The little markdown taskbot writes: headings, **bold**, lists, line breaks, backslash escapes. */
function markdown(text) {
  const root = el('div');
  let list = null;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/ {2}$/, '');
    if (/^- /.test(line)) {
      list = list ?? root.appendChild(el('ul'));
      list.append(el('li', {}, inline(line.slice(2))));
      continue;
    }
    list = null;
    if (!line.trim()) continue;
    if (/^#{1,6} /.test(line)) root.append(el('div', { class: 'heading' }, inline(line.replace(/^#+ /, ''))));
    else if (/^> /.test(line)) root.append(el('div', { class: 'notation' }, inline(line.slice(2))));
    else root.append(el('div', {}, inline(line)));
  }
  return root;
}

function inline(s) {
  const out = [];
  const parts = s.split(/(\*\*(?:\\.|[^*])+\*\*|`[^`]*`)/);
  for (const p of parts) {
    if (/^\*\*.*\*\*$/.test(p)) out.push(el('strong', {}, unescapeMd(p.slice(2, -2))));
    else if (/^`.*`$/.test(p)) out.push(el('code', {}, p.slice(1, -1)));
    else if (p) out.push(unescapeMd(p));
  }
  return out;
}

const unescapeMd = (s) => s.replace(/\\(.)/g, '$1');

/**
 * Our form template: the card platform's Form component draws the fields it is sent (hidden ones
 * not at all, a required one checked before sending, as the client does); the person's own note
 * (private data) under it.
 */
function dingtalkForm(p, outTrackId) {
  let spec;
  try {
    spec = JSON.parse(p.form);
  } catch {
    spec = { fields: [] };
  }
  const shown = (spec.fields ?? []).filter((f) => !f.hidden);
  const input = (f) => {
    switch (f.type) {
      case 'SELECT': {
        const chosen = f.defaultValue?.value;
        return el(
          'select',
          { name: f.name, 'aria-label': f.label },
          (f.options ?? []).map((o) => el('option', { value: o.value, ...(o.value === chosen && { selected: '' }) }, o.text)),
        );
      }
      case 'CHECKBOX':
        return el('label', {}, el('input', { type: 'checkbox', name: f.name, ...(f.defaultValue === true && { checked: '' }) }), ` ${f.label}`);
      default:
        return el('input', {
          name: f.name,
          placeholder: f.placeholder ?? '',
          'aria-label': f.label,
          value: typeof f.defaultValue === 'string' ? f.defaultValue : '',
          ...(f.required && { required: '' }),
        });
    }
  };
  return el(
    'form',
    {
      class: 'track-form',
      onsubmit: async (ev) => {
        ev.preventDefault();
        const values = Object.fromEntries(
          shown.map((f) => [f.name, f.type === 'CHECKBOX' ? ev.target.elements[f.name].checked : ev.target.elements[f.name].value]),
        );
        const r = await post('/console/form', { app: appOf(outTrackId), id: outTrackId, values });
        toast(r.toast);
      },
    },
    shown.map(input),
    el('button', { type: 'submit', class: 'primary', ...(p.form_status === 'disabled' && { disabled: '' }) }, p.form_btn_text || 'Submit'),
  );
}

function dingtalkCard(p, outTrackId) {
  const buttons = [];
  if (p.showRefresh === 'true')
    buttons.push(el('button', { class: 'primary', 'data-action': 'refresh', onclick: () => click(outTrackId, 'refresh') }, p.refreshLabel));
  if (p.showStop === 'true') buttons.push(el('button', { 'data-action': 'stop', onclick: () => click(outTrackId, 'stop') }, p.stopLabel));
  if (p.showNotify === 'true') buttons.push(el('button', { 'data-action': 'notify', onclick: () => click(outTrackId, 'notify') }, p.notifyLabel));
  return el(
    'div',
    { class: 'card', 'data-card': outTrackId },
    el('div', { class: `card-header t-${p.color || 'blue'}` }, el('span', { class: 'title' }, p.title), p.state ? el('span', { class: 'tag' }, p.state) : null),
    el(
      'div',
      { class: 'card-body' },
      p.progressText ? el('div', { class: 'heading' }, p.progressText) : null,
      p.body ? markdown(p.body) : null,
      p.form ? dingtalkForm(p, outTrackId) : null,
      p.note ? el('div', { class: 'notation' }, p.note) : null,
      buttons.length ? el('div', { class: 'card-actions' }, buttons) : null,
    ),
  );
}

// ---- the transcript -------------------------------------------------------------------------------

/** A Feishu text message: `<at user_id="…"></at>` mentions drawn as @ chips, the rest as text. */
function textWithMentions(text) {
  return text
    .split(/(<at user_id="[^"]*"><\/at>)/)
    .filter(Boolean)
    .map((part) => {
      const m = /^<at user_id="([^"]*)"><\/at>$/.exec(part);
      return m ? el('span', { class: 'mention' }, `@${m[1] === 'ou_user00000000000000000000000001' ? 'you' : m[1]}`) : part;
    });
}

function render(e) {
  if (e.from === 'user') return el('li', { class: 'msg user', 'data-id': e.id }, `@taskbot ${e.text}`);
  if (e.file)
    return el(
      'li',
      { class: 'msg bot', 'data-id': e.id },
      el(
        'a',
        { class: 'file', href: `/console/file?key=${encodeURIComponent(e.file.key)}`, download: e.file.name },
        `📎 ${e.file.name} (${Math.max(1, Math.round(e.file.size / 1024))} KB)`,
      ),
    );
  if (e.text !== undefined) return el('li', { class: 'msg bot', 'data-id': e.id }, el('div', { class: 'markdown mention-message' }, textWithMentions(e.text)));
  const content = e.card
    ? feishuCard(e.card, e.id, e.pinned)
    : e.params
      ? dingtalkCard(e.params, e.id)
      : el('div', { class: 'markdown' }, markdown(e.markdown.text));
  return el('li', { class: 'msg bot', 'data-id': e.id }, content);
}

/** DingTalk's top box (吊顶): above the group's messages while it is open, gone once closed. */
function topBox(e) {
  const bar = $(`.chat[data-app="${CSS.escape(e.app)}"] .topbox`);
  bar.querySelector(`[data-id="${CSS.escape(e.id)}"]`)?.remove();
  if (!e.topBox.open) return;
  const p = e.params;
  bar.append(
    el(
      'div',
      { class: 'topbox-card', 'data-id': e.id },
      el('span', { class: 'tag pin' }, '📌'),
      el('span', { class: 'title' }, p.title),
      p.state ? el('span', { class: 'tag' }, p.state) : null,
      p.progressText ? el('div', { class: 'heading' }, p.progressText) : null,
    ),
  );
}

function upsert(e) {
  entries.set(e.id, e);
  if (e.topBox) return topBox(e);
  const list = $(`.chat[data-app="${CSS.escape(e.app)}"] .messages`);
  const old = list.querySelector(`[data-id="${CSS.escape(e.id)}"]`);
  const node = render(e);
  if (old) old.replaceWith(node);
  else {
    list.append(node);
    list.scrollTop = list.scrollHeight;
  }
}

async function say(app, text) {
  if (!text.trim()) return;
  await post('/console/say', { app, text });
}

async function click(id, action) {
  const r = await post('/console/click', { app: appOf(id), id, action });
  toast(r.toast);
}

/** One group per app: one taskbot serving them all, each group labelled with its app. */
function drawGroups(groups) {
  $('.groups').replaceChildren(
    ...groups.map((g) =>
      el(
        'section',
        { class: 'chat', 'data-app': g.app, 'data-platform': g.platform },
        el('h2', {}, `${g.label} · `, el('span', { class: 'app-id' }, `app ${g.app}`), ' · ', el('span', { class: 'chat-id' }, g.chat)),
        g.platform === 'dingtalk' ? el('div', { class: 'topbox', 'aria-live': 'polite' }) : null,
        el('ol', { class: 'messages', 'aria-live': 'polite' }),
        el(
          'form',
          { class: 'composer' },
          el('span', { class: 'at' }, '@taskbot'),
          el('input', { name: 'text', autocomplete: 'off', placeholder: g.platform === 'feishu' ? 'status 5a4d…' : 'status copy-2001' }),
          el('button', { type: 'submit' }, 'Send'),
        ),
      ),
    ),
  );
  $('.script select[name=app]').replaceChildren(...groups.map((g) => el('option', { value: g.app }, `${g.app} (${g.platform})`)));
}

let groups = [];

async function boot() {
  const state = await (await fetch('/console/state')).json();
  groups = state.groups;
  drawGroups(groups);
  state.entries.sort((a, b) => a.at - b.at).forEach(upsert);
  drawSamples(state.samples);
  const events = new EventSource('/console/events');
  events.onmessage = (m) => upsert(JSON.parse(m.data));

  for (const form of document.querySelectorAll('.composer')) {
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const input = form.elements.text;
      say(form.closest('.chat').dataset.app, input.value);
      input.value = '';
    });
  }
  $('.script').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = ev.target.elements;
    const r = await post('/console/script', {
      app: f.app.value,
      taskId: f.taskId.value.trim(),
      notify: f.notify.checked,
      ...(f.title.value.trim() && { title: f.title.value.trim() }),
    });
    $('.script-answer').textContent = `${r.curl ?? ''}\n→ ${r.status} ${JSON.stringify(r.body)}`;
  });
  $('.new-task').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = ev.target.elements;
    const s = await post('/console/tasks', { kind: f.kind.value, outcome: f.outcome.value });
    state.samples.push(s);
    drawSamples(state.samples);
    toast(`started ${s.kind} task ${s.id}`);
  });
}

function drawSamples(samples) {
  const ul = $('.sample-list');
  ul.replaceChildren(
    ...samples.map((s) =>
      el(
        'li',
        {},
        el(
          'button',
          { 'data-sample': s.id, onclick: () => say(groups.find((g) => g.platform === s.platform).app, `status ${s.id}`) },
          `${s.platform} · ${s.kind} · ${s.id}`,
          el('small', {}, s.description),
        ),
      ),
    ),
  );
}

boot();

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { TOPIC_CARD, TOPIC_ROBOT } from '../platforms/dingtalk/sdk.js';
import { z } from 'zod';
import { packageRoot } from '../cards/assets.js';
import { ALL_KINDS, type TaskKind } from '../domain/task.js';
import { BUTTON_ACTIONS, type ButtonAction } from '../domain/card.js';
import type { HttpServer } from '../http/server.js';
import type { FakeDingtalk } from './fake-dingtalk.js';
import type { FakeFeishu } from './fake-feishu.js';
import { newSample, SAMPLES, scriptOf, type Sample } from './samples.js';

/** One group of the console: a chat of one app, on that app's own fake platform. */
export type ConsoleGroup = { app: string; label: string; chat: string } & (
  | { platform: 'feishu'; fake: FakeFeishu }
  | { platform: 'dingtalk'; fake: FakeDingtalk }
);

export interface Entry {
  id: string;
  /** The app whose group it is in. */
  app: string;
  platform: 'feishu' | 'dingtalk';
  from: 'user' | 'bot';
  at: number;
  text?: string;
  /** Feishu: the card JSON the bot sent, as last updated. */
  card?: Record<string, unknown>;
  /** DingTalk: the template's cardParamMap, as last updated. */
  params?: Record<string, string>;
  /** Feishu: the card is pinned in the group. */
  pinned?: boolean;
  /** DingTalk: this card is the group's top box (吊顶); `open` false once closed or expired. */
  topBox?: { open: boolean };
  /** Feishu: a file message (the export of failed items), downloadable from /console/file. */
  file?: { key: string; name: string; size: number };
  /** DingTalk: a markdown message. */
  markdown?: { title: string; text: string };
  /** What a script's POST /api/v1/watches answered (the console's script form). */
  script?: { status: number; body: unknown };
}

const App = z.string().max(40);
const Say = z.object({ app: App, text: z.string().max(2000) });
const Click = z.object({
  app: App,
  id: z.string().max(200),
  action: z.enum(BUTTON_ACTIONS as [ButtonAction, ...ButtonAction[]]),
});
const Form = z.object({
  app: App,
  id: z.string().max(200),
  values: z.record(z.string(), z.union([z.string().max(300), z.boolean()])),
});
const Script = z.object({
  app: App,
  taskId: z.string().min(1).max(200),
  title: z.string().max(100).optional(),
  notify: z.boolean().optional(),
});
/** The person at the console, as each platform knows them. */
export const CONSOLE_USER = { feishu: 'ou_user00000000000000000000000001', dingtalk: 'staff001' } as const;
const NewTask = z.object({ kind: z.enum(ALL_KINDS as [TaskKind, ...TaskKind[]]), outcome: z.enum(['succeeded', 'partial', 'failed']) });

const STATIC: Record<string, string> = { '/': 'index.html', '/console/app.js': 'app.js', '/console/style.css': 'style.css' };
const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

/**
 * The web console's server side: a transcript of the sandbox groups (one per app) built from what
 * the fake platforms saw, pushed live over server-sent events; people's messages and button
 * presses go in through the same gateways the real platforms use.
 */
export class ConsoleHub {
  readonly entries = new Map<string, Entry>();
  private readonly streams = new Set<ServerResponse>();
  private readonly samples: Sample[] = [...SAMPLES];
  private readonly byApp: Map<string, ConsoleGroup>;

  constructor(private readonly groups: ConsoleGroup[]) {
    this.byApp = new Map(groups.map((g) => [g.app, g]));
    for (const g of groups) this.listen(g);
  }

  /** What the group's fake platform shows in its chat, as transcript entries (ids are the app's: two fakes may count alike). */
  private listen(g: ConsoleGroup): void {
    const { app } = g;
    if (g.platform === 'feishu') {
      const feishu = g.fake;
      feishu.im.listeners.add((m) => {
        if (m.chat_id !== g.chat) return;
        const shown = m.file
          ? { file: { key: m.file.key, name: m.file.name, size: m.file.bytes.byteLength } }
          : m.text === undefined
            ? { card: m.card }
            : { text: m.text };
        this.put({ id: m.message_id, app, platform: 'feishu', from: 'bot', at: m.created_at, ...shown, pinned: feishu.im.pinned.has(m.message_id) });
      });
      return;
    }
    const dingtalk = g.fake;
    let n = 0;
    dingtalk.im.listeners.add((kind, item) => {
      if (kind === 'card' && 'outTrackId' in item) {
        const top = item.topBox && { topBox: { open: dingtalk.im.topBoxOpen(item) } };
        this.put({
          id: item.outTrackId,
          app,
          platform: 'dingtalk',
          from: 'bot',
          at: item.history[0]!.at,
          params: dingtalk.im.viewOf(item, CONSOLE_USER.dingtalk),
          ...top,
        });
      }
      if (kind === 'message' && 'title' in item)
        this.put({ id: `md-${app}-${++n}`, app, platform: 'dingtalk', from: 'bot', at: item.at, markdown: { title: item.title, text: item.text } });
    });
  }

  routes(http: HttpServer): void {
    for (const [path, file] of Object.entries(STATIC)) {
      http.route('GET', path, () => ({
        status: 200,
        body: readFileSync(join(packageRoot(), 'console', file), 'utf8'),
        contentType: TYPES[file.split('.').pop()!]!,
      }));
    }
    http.raw('GET', '/console/file', (_req, res, input) => {
      const key = input.query.get('key') ?? '';
      const f = this.groups.flatMap((g) => (g.platform === 'feishu' ? [g.fake.im.files.get(key)] : [])).find(Boolean);
      if (!f) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(f.name)}` });
      res.end(f.bytes);
    });
    const groups = this.groups.map(({ app, label, platform, chat }) => ({ app, label, platform, chat }));
    http.route('GET', '/console/state', () => ({ status: 200, body: { groups, samples: this.samples, entries: [...this.entries.values()] } }));
    http.raw('GET', '/console/events', (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      res.write(': hello\n\n');
      this.streams.add(res);
      req.on('close', () => this.streams.delete(res));
    });
    /** A request naming one of the groups' apps, checked; anything else is a 400 saying what is needed. */
    const take =
      <T extends { app: string }>(schema: z.ZodType<T>, needs: string, act: (g: ConsoleGroup, v: T) => Promise<unknown>) =>
      async (req: { rawBody: Buffer }) => {
        const p = schema.safeParse(parse(req.rawBody));
        const g = p.success ? this.byApp.get(p.data.app) : undefined;
        if (!p.success || !g) return { status: 400, body: { error: `${needs} are required (app: ${[...this.byApp.keys()].join(', ')})` } };
        return { status: 200, body: await act(g, p.data) };
      };
    http.route(
      'POST',
      '/console/say',
      take(Say, 'app and text', (g, v) => this.say(g, v.text)),
    );
    http.route(
      'POST',
      '/console/click',
      take(Click, 'app, id and action', (g, v) => this.click(g, v.id, v.action)),
    );
    http.route(
      'POST',
      '/console/form',
      take(Form, 'app, id and values', (g, v) => this.submit(g, v.id, v.values)),
    );
    http.route(
      'POST',
      '/console/script',
      take(Script, 'app and taskId', (g, v) => this.script(g, v)),
    );
    http.route('POST', '/console/tasks', (req) => {
      const p = NewTask.safeParse(parse(req.rawBody));
      if (!p.success) return { status: 400, body: { error: 'kind and outcome are required' } };
      const s = newSample(p.data.kind, p.data.outcome);
      // Every app of the platform has it: the same task id in two apps is two tasks.
      for (const g of this.groups) if (g.platform === s.platform) g.fake.tasks.add(scriptOf(s));
      this.samples.push(s);
      return { status: 200, body: s };
    });
  }

  /** A person writes `text` in the group, mentioning the bot. */
  async say(g: ConsoleGroup, text: string): Promise<{ id: string }> {
    const { app, platform } = g;
    if (g.platform === 'feishu') {
      const { messageId, event } = g.fake.say(g.chat, text);
      this.put({ id: messageId, app, platform, from: 'user', at: Date.now(), text });
      await g.fake.gateway.push(event);
      return { id: messageId };
    }
    const { msgId, data } = g.fake.robotMessage(g.chat, text);
    this.put({ id: msgId, app, platform, from: 'user', at: Date.now(), text });
    await g.fake.stream.push(TOPIC_ROBOT, data);
    return { id: msgId };
  }

  /** Where the script form sends its request: the bot's own API (set once the bot listens). */
  api?: { url: string; token: string };

  /** What a script does: POST /api/v1/watches over HTTP with the bearer token, for the group's chat. */
  async script(g: ConsoleGroup, s: z.output<typeof Script>): Promise<{ status: number; body: unknown; curl: string }> {
    if (!this.api) return { status: 503, body: { error: 'the bot is not listening yet' }, curl: '' };
    const body = {
      platform: g.platform,
      app: g.app,
      chatId: g.chat,
      taskId: s.taskId,
      ...(s.title && { title: s.title }),
      ...(s.notify && { notify: [CONSOLE_USER[g.platform]] }),
    };
    const res = await fetch(`${this.api.url}/api/v1/watches`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.api.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = { status: res.status, body: (await res.json()) as unknown };
    const curl = `curl -X POST ${this.api.url}/api/v1/watches -H "Authorization: Bearer $API_TOKEN" -H "Content-Type: application/json" -d '${JSON.stringify(body)}'`;
    return { ...answer, curl };
  }

  /** A person presses a card button; the answer is shown in place as the platform's client would. */
  async click(g: ConsoleGroup, id: string, action: ButtonAction): Promise<{ toast: string }> {
    if (g.platform === 'feishu') {
      const ack = await g.fake.gateway.push(g.fake.click(id, action, { chatId: g.chat, user: CONSOLE_USER.feishu }));
      const answer = ack.data as { toast?: { content?: string }; card?: { data?: Record<string, unknown> } } | undefined;
      if (answer?.card?.data) g.fake.im.applyInline(id, answer.card.data);
      return { toast: answer?.toast?.content ?? '' };
    }
    const ack = await g.fake.stream.push(TOPIC_CARD, g.fake.cardClick(id, action, CONSOLE_USER.dingtalk));
    const params = (ack.data as { response?: { cardData?: { cardParamMap?: Record<string, string> } } } | undefined)?.response?.cardData?.cardParamMap;
    if (params) g.fake.im.applyInline(id, params);
    const did = { stop: 'Stopped', refresh: 'Refreshed', notify: 'Notify me toggled', export: 'Export' }[action];
    return { toast: params?.note || (params ? `${did}: the callback answered with fresh card data` : '') };
  }

  /** A person submits a card's Track a task form; the answer is shown as the platform's client would (Feishu's toast, DingTalk's private note). */
  async submit(g: ConsoleGroup, id: string, values: Record<string, string | boolean>): Promise<{ toast: string }> {
    if (g.platform === 'feishu') {
      const ack = await g.fake.gateway.push(g.fake.submitForm(id, values, { user: CONSOLE_USER.feishu }));
      return { toast: (ack.data as { toast?: { content?: string } } | undefined)?.toast?.content ?? '' };
    }
    const ack = await g.fake.stream.push(TOPIC_CARD, g.fake.submitForm(id, values, CONSOLE_USER.dingtalk));
    const mine = (ack.data as { response?: { userPrivateData?: { cardParamMap?: Record<string, string> } } } | undefined)?.response?.userPrivateData
      ?.cardParamMap;
    if (mine) g.fake.im.applyPrivate(id, CONSOLE_USER.dingtalk, mine);
    return { toast: mine?.note ?? '' };
  }

  close(): void {
    for (const s of this.streams) s.end();
    this.streams.clear();
  }

  private put(e: Entry): void {
    this.entries.set(e.id, e);
    const line = `data: ${JSON.stringify(e)}\n\n`;
    for (const s of this.streams) s.write(line);
  }
}

function parse(b: Buffer): unknown {
  try {
    return JSON.parse(b.toString('utf8'));
  } catch {
    return undefined;
  }
}

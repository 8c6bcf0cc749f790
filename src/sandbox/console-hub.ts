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

export interface Entry {
  id: string;
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

const Say = z.object({ platform: z.enum(['feishu', 'dingtalk']), text: z.string().max(2000) });
const Click = z.object({
  platform: z.enum(['feishu', 'dingtalk']),
  id: z.string().max(200),
  action: z.enum(BUTTON_ACTIONS as [ButtonAction, ...ButtonAction[]]),
});
const Form = z.object({
  platform: z.enum(['feishu', 'dingtalk']),
  id: z.string().max(200),
  values: z.record(z.string(), z.union([z.string().max(300), z.boolean()])),
});
const Script = z.object({
  platform: z.enum(['feishu', 'dingtalk']),
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
 * The web console's server side: a transcript of both sandbox groups built from what the fake
 * platforms saw, pushed live over server-sent events; people's messages and button presses go
 * in through the same gateways the real platforms use.
 */
export class ConsoleHub {
  readonly entries = new Map<string, Entry>();
  private readonly streams = new Set<ServerResponse>();
  private readonly samples: Sample[] = [...SAMPLES];

  constructor(
    private readonly feishu: FakeFeishu,
    private readonly dingtalk: FakeDingtalk,
    private readonly chats: { feishu: string; dingtalk: string },
  ) {
    feishu.im.listeners.add((m) => {
      if (m.chat_id !== chats.feishu) return;
      const shown = m.file
        ? { file: { key: m.file.key, name: m.file.name, size: m.file.bytes.byteLength } }
        : m.text === undefined
          ? { card: m.card }
          : { text: m.text };
      this.put({ id: m.message_id, platform: 'feishu', from: 'bot', at: m.created_at, ...shown, pinned: feishu.im.pinned.has(m.message_id) });
    });
    let n = 0;
    dingtalk.im.listeners.add((kind, item) => {
      if (kind === 'card' && 'outTrackId' in item) {
        const top = item.topBox && { topBox: { open: dingtalk.im.topBoxOpen(item) } };
        this.put({
          id: item.outTrackId,
          platform: 'dingtalk',
          from: 'bot',
          at: item.history[0]!.at,
          params: dingtalk.im.viewOf(item, CONSOLE_USER.dingtalk),
          ...top,
        });
      }
      if (kind === 'message' && 'title' in item)
        this.put({ id: `md-${++n}`, platform: 'dingtalk', from: 'bot', at: item.at, markdown: { title: item.title, text: item.text } });
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
      const f = this.feishu.im.files.get(input.query.get('key') ?? '');
      if (!f) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(f.name)}` });
      res.end(f.bytes);
    });
    http.route('GET', '/console/state', () => ({ status: 200, body: { chats: this.chats, samples: this.samples, entries: [...this.entries.values()] } }));
    http.raw('GET', '/console/events', (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      res.write(': hello\n\n');
      this.streams.add(res);
      req.on('close', () => this.streams.delete(res));
    });
    http.route('POST', '/console/say', async (req) => {
      const p = Say.safeParse(parse(req.rawBody));
      if (!p.success) return { status: 400, body: { error: 'platform and text are required' } };
      return { status: 200, body: await this.say(p.data.platform, p.data.text) };
    });
    http.route('POST', '/console/click', async (req) => {
      const p = Click.safeParse(parse(req.rawBody));
      if (!p.success) return { status: 400, body: { error: 'platform, id and action are required' } };
      return { status: 200, body: await this.click(p.data.platform, p.data.id, p.data.action) };
    });
    http.route('POST', '/console/form', async (req) => {
      const p = Form.safeParse(parse(req.rawBody));
      if (!p.success) return { status: 400, body: { error: 'id and values are required' } };
      return { status: 200, body: await this.submit(p.data.platform, p.data.id, p.data.values) };
    });
    http.route('POST', '/console/script', async (req) => {
      const p = Script.safeParse(parse(req.rawBody));
      if (!p.success || !this.api) return { status: 400, body: { error: 'platform and taskId are required' } };
      return { status: 200, body: await this.script(p.data) };
    });
    http.route('POST', '/console/tasks', (req) => {
      const p = NewTask.safeParse(parse(req.rawBody));
      if (!p.success) return { status: 400, body: { error: 'kind and outcome are required' } };
      const s = newSample(p.data.kind, p.data.outcome);
      (s.platform === 'feishu' ? this.feishu : this.dingtalk).tasks.add(scriptOf(s));
      this.samples.push(s);
      return { status: 200, body: s };
    });
  }

  /** A person writes `text` in the platform's sandbox group, mentioning the bot. */
  async say(platform: 'feishu' | 'dingtalk', text: string): Promise<{ id: string }> {
    if (platform === 'feishu') {
      const { messageId, event } = this.feishu.say(this.chats.feishu, text);
      this.put({ id: messageId, platform, from: 'user', at: Date.now(), text });
      await this.feishu.gateway.push(event);
      return { id: messageId };
    }
    const { msgId, data } = this.dingtalk.robotMessage(this.chats.dingtalk, text);
    this.put({ id: msgId, platform, from: 'user', at: Date.now(), text });
    await this.dingtalk.stream.push(TOPIC_ROBOT, data);
    return { id: msgId };
  }

  /** Where the script form sends its request: the bot's own API (set once the bot listens). */
  api?: { url: string; token: string };

  /** What a script does: POST /api/v1/watches over HTTP with the bearer token, for the sandbox group. */
  async script(s: z.output<typeof Script>): Promise<{ status: number; body: unknown; curl: string }> {
    const body = {
      platform: s.platform,
      chatId: this.chats[s.platform],
      taskId: s.taskId,
      ...(s.title && { title: s.title }),
      ...(s.notify && { notify: [CONSOLE_USER[s.platform]] }),
    };
    const res = await fetch(`${this.api!.url}/api/v1/watches`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.api!.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = { status: res.status, body: (await res.json()) as unknown };
    const curl = `curl -X POST ${this.api!.url}/api/v1/watches -H "Authorization: Bearer $API_TOKEN" -H "Content-Type: application/json" -d '${JSON.stringify(body)}'`;
    return { ...answer, curl };
  }

  /** A person presses a card button; the answer is shown in place as the platform's client would. */
  async click(platform: 'feishu' | 'dingtalk', id: string, action: ButtonAction): Promise<{ toast: string }> {
    if (platform === 'feishu') {
      const ack = await this.feishu.gateway.push(this.feishu.click(id, action, { chatId: this.chats.feishu, user: CONSOLE_USER.feishu }));
      const answer = ack.data as { toast?: { content?: string }; card?: { data?: Record<string, unknown> } } | undefined;
      if (answer?.card?.data) this.feishu.im.applyInline(id, answer.card.data);
      return { toast: answer?.toast?.content ?? '' };
    }
    const ack = await this.dingtalk.stream.push(TOPIC_CARD, this.dingtalk.cardClick(id, action, CONSOLE_USER.dingtalk));
    const params = (ack.data as { response?: { cardData?: { cardParamMap?: Record<string, string> } } } | undefined)?.response?.cardData?.cardParamMap;
    if (params) this.dingtalk.im.applyInline(id, params);
    const did = { stop: 'Stopped', refresh: 'Refreshed', notify: 'Notify me toggled', export: 'Export' }[action];
    return { toast: params?.note || (params ? `${did}: the callback answered with fresh card data` : '') };
  }

  /** A person submits a card's Track a task form; the answer is shown as the platform's client would (Feishu's toast, DingTalk's private note). */
  async submit(platform: 'feishu' | 'dingtalk', id: string, values: Record<string, string | boolean>): Promise<{ toast: string }> {
    if (platform === 'feishu') {
      const ack = await this.feishu.gateway.push(this.feishu.submitForm(id, values, { user: CONSOLE_USER.feishu }));
      return { toast: (ack.data as { toast?: { content?: string } } | undefined)?.toast?.content ?? '' };
    }
    const ack = await this.dingtalk.stream.push(TOPIC_CARD, this.dingtalk.submitForm(id, values, CONSOLE_USER.dingtalk));
    const mine = (ack.data as { response?: { userPrivateData?: { cardParamMap?: Record<string, string> } } } | undefined)?.response?.userPrivateData
      ?.cardParamMap;
    if (mine) this.dingtalk.im.applyPrivate(id, CONSOLE_USER.dingtalk, mine);
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

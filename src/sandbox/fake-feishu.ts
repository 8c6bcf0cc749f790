import { FakeServer, FakeTokens, type FakeRequest, type FakeResponse, type Route } from './fake-server.js';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { FakeFeishuIm } from './fake-feishu-im.js';
import { FakeFeishuGateway } from './fake-feishu-ws.js';
import { ScriptedTasks, type TaskScript } from './scripted-task.js';
import { contactTask, driveTask, reportQuery, type FakeReportSubmission } from './fake-feishu-tasks.js';

export type { FakeReportSubmission };

const SCOPES: Record<string, string[]> = {
  '/open-apis/contact/v2/task/get': ['contact:contact', 'contact:contact:readonly_as_app'],
  '/open-apis/drive/v1/files/task_check': ['drive:drive', 'drive:drive.metadata:readonly', 'drive:drive:readonly'],
  '/open-apis/report/v1/tasks/query': ['report:task:readonly'],
  '/open-apis/im/v1/chats/:chat_id': ['im:chat:readonly', 'im:chat'],
  '/open-apis/im/v1/files': ['im:resource', 'im:resource:upload'],
  '/open-apis/im/v1/pins': ['im:message.pins:write_only', 'im:message'],
};

/** What sending and updating messages needs (any one). */
const MESSAGE_SCOPES = ['im:message', 'im:message:send_as_bot'];

/**
 * A Feishu open platform on loopback: the tenant token endpoint and the three task endpoints
 * answering in the documented shapes, driven by scripted tasks.
 */
export class FakeFeishu extends FakeServer {
  readonly tokens = new FakeTokens();
  readonly im: FakeFeishuIm;
  readonly gateway = new FakeFeishuGateway(() => this.baseUrl);
  readonly botOpenId = 'ou_fakebot0000000000000000000000';
  private events = 0;
  readonly tasks: ScriptedTasks;
  readonly reports: FakeReportSubmission[] = [];
  private readonly deniedPaths = new Set<string>();
  /** Each group's owner and managers (im v1 chat get); a chat not named here has an owner nobody presses as. */
  readonly chatRoles = new Map<string, { owner: string; managers: string[] }>();
  /** Seconds a new token is valid for. */
  tokenLifetimeSec = 7200;

  constructor(
    readonly appId = 'cli_a1b2c3d4e5f60718',
    readonly appSecret = 'fake-feishu-secret',
    now: () => number = Date.now,
  ) {
    super();
    this.tasks = new ScriptedTasks(now);
    this.im = new FakeFeishuIm(now);
  }

  protected override upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.gateway.upgrade(req, socket, head);
  }

  override async close(): Promise<void> {
    this.gateway.close();
    await super.close();
  }

  /** A person writes in a chat; in groups the text is prefixed with a mention of the bot unless told otherwise. */
  say(chatId: string, text: string, o: { p2p?: boolean; mention?: boolean; user?: string; messageType?: string; content?: string } = {}) {
    const n = ++this.events;
    const messageId = `om_in_${n}_${Math.random().toString(36).slice(2, 8)}`;
    this.im.inbound.set(messageId, chatId);
    const mention = !o.p2p && o.mention !== false;
    const event = {
      schema: '2.0',
      header: {
        event_id: `ev_${messageId}`,
        event_type: 'im.message.receive_v1',
        create_time: String(Date.now()),
        token: 'v-token',
        app_id: this.appId,
        tenant_key: 'tenant',
      },
      event: {
        sender: { sender_id: { open_id: o.user ?? 'ou_user00000000000000000000000001' }, sender_type: 'user', tenant_key: 'tenant' },
        message: {
          message_id: messageId,
          chat_id: chatId,
          chat_type: o.p2p ? 'p2p' : 'group',
          message_type: o.messageType ?? 'text',
          content: o.content ?? JSON.stringify({ text: mention ? `@_user_1 ${text}` : text }),
          ...(mention && { mentions: [{ key: '@_user_1', id: { open_id: this.botOpenId }, name: 'taskbot', tenant_key: 'tenant' }] }),
        },
      },
    };
    return { messageId, event };
  }

  /** A person presses a button on a card. */
  click(messageId: string, action: string, o: { chatId?: string; user?: string; eventId?: string } = {}) {
    return {
      schema: '2.0',
      header: {
        event_id: o.eventId ?? `ev_click_${++this.events}`,
        event_type: 'card.action.trigger',
        create_time: String(Date.now()),
        token: 'v-token',
        app_id: this.appId,
        tenant_key: 'tenant',
      },
      event: {
        operator: { open_id: o.user ?? 'ou_user00000000000000000000000001' },
        token: `c-${this.events}`,
        action: { value: { action, v: '1' }, tag: 'button' },
        context: { open_message_id: messageId, open_chat_id: o.chatId ?? this.im.messages.get(messageId)?.chat_id ?? 'oc_unknown' },
      },
    };
  }

  /** A person submits the Track a task form of a card: card.action.trigger with the form's values. */
  submitForm(messageId: string, values: Record<string, unknown>, o: { user?: string; eventId?: string } = {}) {
    const click = this.click(messageId, 'track', o);
    return { ...click, event: { ...click.event, action: { ...click.event.action, name: 'submit', form_value: values } } };
  }

  /**
   * A person clicks an item of the bot's menu (application.bot.menu_v6, shaped as Feishu documents
   * it: no chat, the operator's ids, the item's event_key).
   */
  menu(eventKey: string, o: { user?: string; eventId?: string } = {}) {
    return {
      schema: '2.0',
      header: {
        event_id: o.eventId ?? `ev_menu_${++this.events}`,
        event_type: 'application.bot.menu_v6',
        create_time: String(Date.now()),
        token: 'v-token',
        app_id: this.appId,
        tenant_key: 'tenant',
      },
      event: {
        operator: {
          operator_name: 'Tom',
          operator_id: { open_id: o.user ?? 'ou_user00000000000000000000000001', union_id: 'on_user0000000000000000000000001', user_id: null },
        },
        event_key: eventKey,
        timestamp: Math.floor(Date.now() / 1000),
      },
    };
  }

  addTask(script: Omit<TaskScript, 'kind'> & { kind: 'contact' | 'drive' }) {
    return this.tasks.add(script);
  }

  /** The app loses the scopes of this endpoint path. */
  denyScope(path: keyof typeof SCOPES | string): void {
    this.deniedPaths.add(path);
  }

  /** The admin grants them again. */
  restoreScope(path: string): void {
    this.deniedPaths.delete(path);
  }

  protected override configure(c: { enforceLimits?: boolean; inbound?: [string, string][] }): void {
    if (c.enforceLimits !== undefined) this.im.enforceLimits = c.enforceLimits;
    for (const [id, chat] of c.inbound ?? []) this.im.inbound.set(id, chat);
  }

  protected override extraStats(): Record<string, unknown> {
    return { limitViolations: this.im.limitViolations, violations: this.im.violations, messages: this.im.messages.size, minuteWrites: this.im.minuteWrites() };
  }

  protected addScript(script: TaskScript): void {
    this.tasks.add(script);
  }

  protected faultAnswer(kind: '5xx' | '429', resetSec: number): FakeResponse {
    if (kind === '429') {
      return { status: 429, body: { code: 99991400, msg: 'request trigger frequency limit' }, headers: { 'x-ogw-ratelimit-reset': String(resetSec) } };
    }
    return { status: 500, body: { code: 1061001, msg: 'internal error.' } };
  }

  protected route(req: FakeRequest): Route | undefined {
    const key = `${req.method} ${req.path}`;
    if (key === 'POST /open-apis/auth/v3/tenant_access_token/internal') return (r) => this.token(r);
    if (key === 'POST /callback/ws/endpoint') {
      return (r) => {
        const b = (r.body ?? {}) as { AppID?: string; AppSecret?: string };
        return this.gateway.endpoint(b.AppID === this.appId && b.AppSecret === this.appSecret);
      };
    }
    const reply = /^\/open-apis\/im\/v1\/messages\/([^/]+)\/reply$/.exec(req.path);
    if (req.method === 'POST' && reply) return (r) => this.authorized(r) ?? this.im.reply(r, reply[1]!);
    const patch = /^\/open-apis\/im\/v1\/messages\/([^/]+)$/.exec(req.path);
    if (req.method === 'PATCH' && patch) return (r) => this.authorized(r) ?? this.im.patch(r, patch[1]!);
    if (key === 'POST /open-apis/im/v1/messages') return (r) => this.authorized(r) ?? this.im.create(r, null);
    if (key === 'POST /open-apis/im/v1/pins')
      return (r) => this.authorized(r, '/open-apis/im/v1/pins') ?? this.im.pin(String((r.body as { message_id?: unknown } | undefined)?.message_id ?? ''));
    const unpin = /^\/open-apis\/im\/v1\/pins\/([^/]+)$/.exec(req.path);
    if (req.method === 'DELETE' && unpin) return (r) => this.authorized(r, '/open-apis/im/v1/pins') ?? this.im.unpin(unpin[1]!);
    if (key === 'POST /open-apis/im/v1/files') return async (r) => this.authorized(r) ?? (await this.im.upload(r));
    const chat = /^\/open-apis\/im\/v1\/chats\/([^/]+)$/.exec(req.path);
    if (req.method === 'GET' && chat) return (r) => this.authorized(r, '/open-apis/im/v1/chats/:chat_id') ?? this.chatInfo(r, decodeURIComponent(chat[1]!));
    if (key === 'GET /open-apis/bot/v3/info')
      return (r) =>
        this.authorized(r) ?? { status: 200, body: { code: 0, msg: 'ok', bot: { open_id: this.botOpenId, app_name: 'taskbot', activate_status: 2 } } };
    const api: Record<string, Route> = {
      'GET /open-apis/contact/v2/task/get': (r) => contactTask(this.tasks, r),
      'GET /open-apis/drive/v1/files/task_check': (r) => driveTask(this.tasks, r),
      'POST /open-apis/report/v1/tasks/query': (r) => reportQuery(this.reports, r),
    };
    const handler = api[key];
    return handler && ((r) => this.authorized(r) ?? handler(r));
  }

  private token(r: FakeRequest): FakeResponse {
    const b = (r.body ?? {}) as { app_id?: string; app_secret?: string };
    if (b.app_id !== this.appId) return { status: 400, body: { code: 10003, msg: 'invalid param: app_id' } };
    if (b.app_secret !== this.appSecret) return { status: 400, body: { code: 10014, msg: 'app secret invalid' } };
    return { status: 200, body: { code: 0, msg: 'ok', tenant_access_token: this.tokens.issue('t'), expire: this.tokenLifetimeSec } };
  }

  /** im v1 chat get, in open_ids: the group's owner and managers, with the documented neighbours of those fields. */
  private chatInfo(r: FakeRequest, chatId: string): FakeResponse {
    if (r.query.get('user_id_type') !== 'open_id') return { status: 400, body: { code: 99992402, msg: 'field validation failed: user_id_type' } };
    const roles = this.chatRoles.get(chatId) ?? { owner: 'ou_owner0000000000000000000000000', managers: [] };
    const data = {
      name: chatId,
      description: '',
      owner_id_type: 'open_id',
      owner_id: roles.owner,
      user_manager_id_list: roles.managers,
      bot_manager_id_list: [],
      chat_mode: 'group',
      chat_type: 'private',
      external: false,
      tenant_key: 'tenant',
      user_count: '3',
      bot_count: '1',
    };
    return { status: 200, body: { code: 0, msg: 'success', data } };
  }

  /** Token and scope checks every API call goes through (`route`: the path as the scope table names it); undefined when the call may proceed. */
  private authorized(r: FakeRequest, route = r.path): FakeResponse | undefined {
    const auth = r.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
    if (!this.tokens.isValid(token)) {
      return { status: 400, body: { code: 99991663, msg: 'Invalid access token for authorization. Please make a request with token attached.' } };
    }
    if (this.deniedPaths.has(route)) {
      const scopes = SCOPES[route] ?? (r.path.startsWith('/open-apis/im/v1/messages') ? MESSAGE_SCOPES : []);
      return {
        status: 400,
        body: {
          code: 99991672,
          msg: `Access denied. One of the following scopes is required: [${scopes.join(', ')}].应用尚未开通所需的应用身份权限：[${scopes.join(', ')}]`,
        },
      };
    }
    return undefined;
  }
}

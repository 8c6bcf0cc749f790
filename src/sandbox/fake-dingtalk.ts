import { FakeServer, FakeTokens, type FakeRequest, type FakeResponse, type Route } from './fake-server.js';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { FakeDingtalkIm } from './fake-dingtalk-im.js';
import { FakeDingtalkStream } from './fake-dingtalk-stream.js';
import { ScriptedTasks, type TaskScript } from './scripted-task.js';

const SCOPES: Record<string, string> = {
  storage: 'Storage.Task.Read',
  doc: 'SNS.Document.WorkspaceDocument.Read',
  im: 'qyapi_robot_sendmsg',
  card: 'Card.Instance.Write',
};

/**
 * A DingTalk open platform on loopback: the OAuth2 token, the storage and doc task endpoints
 * and the legacy oapi user lookup, in the documented shapes, serving both DINGTALK_API_BASE
 * and DINGTALK_OAPI_BASE.
 */
export class FakeDingtalk extends FakeServer {
  readonly tokens = new FakeTokens();
  readonly stream = new FakeDingtalkStream(
    () => this.baseUrl,
    () => [this.clientId, this.clientSecret],
  );
  readonly im: FakeDingtalkIm;
  private n = 0;
  readonly tasks: ScriptedTasks;
  /** staffId (userid) → unionId */
  readonly users = new Map<string, string>();
  private readonly denied = new Set<string>();
  tokenLifetimeSec = 7200;

  constructor(
    readonly clientId = 'dingfakeclientid',
    readonly clientSecret = 'fake-dingtalk-secret',
    now: () => number = Date.now,
  ) {
    super();
    this.tasks = new ScriptedTasks(now);
    this.im = new FakeDingtalkIm(now);
  }

  protected override upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.stream.upgrade(req, socket, head);
  }

  override async close(): Promise<void> {
    this.stream.close();
    await super.close();
  }

  /** A person writes to the robot (in groups the robot only hears messages that @ it). */
  robotMessage(conversationId: string, text: string, o: { p2p?: boolean; staffId?: string; msgtype?: string; webhook?: boolean } = {}) {
    const msgId = `msg${++this.n}${Math.random().toString(36).slice(2, 8)}`;
    const staffId = o.staffId ?? 'staff001';
    this.im.sessionChats.set(msgId, o.p2p ? `user:${staffId}` : conversationId);
    return {
      msgId,
      data: {
        conversationId,
        conversationType: o.p2p ? '1' : '2',
        conversationTitle: o.p2p ? undefined : 'Ops group',
        chatbotUserId: 'bot$fake',
        robotCode: this.clientId,
        msgId,
        senderStaffId: staffId,
        senderId: `$:LWCP_v1:$${staffId}`,
        senderNick: '张三',
        isInAtList: !o.p2p,
        createAt: Date.now(),
        msgtype: o.msgtype ?? 'text',
        text: { content: ` ${text}` },
        ...(o.webhook !== false && { sessionWebhook: `${this.baseUrl}/robot/session/${msgId}`, sessionWebhookExpiredTime: Date.now() + 3600_000 }),
      },
    };
  }

  /** A person presses a button on a delivered card. */
  cardClick(outTrackId: string, action: string, user = 'staff001') {
    return { type: 'actionCallback', outTrackId, userId: user, content: JSON.stringify({ cardPrivateData: { actionIds: [action], params: { action } } }) };
  }

  /** A person submits a card's form (our Track a task form): the callback carries `params.form` and `current_form`. */
  submitForm(outTrackId: string, entered: Record<string, string | boolean>, user = 'staff001') {
    const params = this.im.formSubmission(outTrackId, user, entered);
    return { type: 'actionCallback', outTrackId, userId: user, content: JSON.stringify({ cardPrivateData: { actionIds: [], params } }) };
  }

  addTask(script: Omit<TaskScript, 'kind'> & { kind: 'storage' | 'doc' }) {
    return this.tasks.add(script);
  }

  /** The app loses the permission of this task kind (of cards and robot messages: 'im'; of cards only: 'card'; of user lookups: 'member'). */
  denyScope(kind: 'storage' | 'doc' | 'im' | 'card' | 'member'): void {
    this.denied.add(kind);
  }

  protected addScript(script: TaskScript): void {
    this.tasks.add(script);
  }

  protected faultAnswer(kind: '5xx' | '429'): FakeResponse {
    if (kind === '429') {
      return { status: 403, body: { code: 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi', message: '应用调用该接口的并发量超过限制', requestid: rid() } };
    }
    return { status: 500, body: { code: 'systemError', message: '服务繁忙,请稍后重试', requestid: rid() } };
  }

  protected route(req: FakeRequest): Route | undefined {
    if (req.method === 'POST' && req.path === '/v1.0/oauth2/accessToken') return (r) => this.token(r);
    if (req.method === 'POST' && req.path === '/v1.0/gateway/connections/open')
      return (r) => this.stream.open((r.body ?? {}) as Parameters<FakeDingtalkStream['open']>[0]);
    const session = /^\/robot\/session\/([^/]+)$/.exec(req.path);
    if (req.method === 'POST' && session) return (r) => this.im.session(r, session[1]!);
    const api: Record<string, Route> = {
      'POST /v1.0/card/instances/createAndDeliver': (r) => this.im.createAndDeliver(r),
      'PUT /v1.0/card/instances': (r) => this.im.update(r),
      'POST /v1.0/card/instances': (r) => this.im.create(r),
      'POST /v1.0/im/topBoxes/close': (r) => this.im.closeTopBox(r),
      'POST /v1.0/robot/groupMessages/send': (r) => this.im.robotSend(r, 'group'),
      'POST /v1.0/robot/oToMessages/batchSend': (r) => this.im.robotSend(r, 'user'),
    };
    const handler = api[`${req.method} ${req.path}`];
    const kind = req.path.startsWith('/v1.0/card/') || req.path.startsWith('/v1.0/im/topBoxes/') ? 'card' : 'im';
    if (handler) return (r) => this.authorized(r, 'im') ?? (kind === 'card' ? this.authorized(r, 'card') : undefined) ?? handler(r);
    if (req.method === 'POST' && req.path === '/topapi/v2/user/get') return (r) => this.userGet(r);
    if (req.method !== 'GET') return undefined;
    const storage = /^\/v1\.0\/storage\/tasks\/([^/]+)$/.exec(req.path);
    if (storage) return (r) => this.authorized(r, 'storage') ?? this.storageTask(r, decodeURIComponent(storage[1]!));
    const doc = /^\/v2\.0\/doc\/task\/info\/([^/]+)$/.exec(req.path);
    if (doc) return (r) => this.authorized(r, 'doc') ?? this.docTask(decodeURIComponent(doc[1]!));
    return undefined;
  }

  private token(r: FakeRequest): FakeResponse {
    const b = (r.body ?? {}) as { appKey?: string; appSecret?: string };
    if (b.appKey !== this.clientId || b.appSecret !== this.clientSecret) {
      return { status: 400, body: { code: 'invalidClientIdOrSecret', message: '无效的clientId或者clientSecret', requestid: rid() } };
    }
    return { status: 200, body: { accessToken: this.tokens.issue('dt'), expireIn: this.tokenLifetimeSec } };
  }

  private authorized(r: FakeRequest, kind: string): FakeResponse | undefined {
    const token = r.headers['x-acs-dingtalk-access-token'];
    if (!this.tokens.isValid(typeof token === 'string' ? token : undefined)) {
      return { status: 400, body: { code: 'InvalidAuthentication', message: '不合法的access_token', requestid: rid() } };
    }
    if (this.denied.has(kind)) {
      return {
        status: 403,
        body: {
          code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
          message: '没有调用该接口的权限，接口权限申请参考：https://open.dingtalk.com/document/orgapp/add-api-permission',
          requestid: rid(),
          accessdenieddetail: { requiredScopes: [SCOPES[kind]] },
        },
      };
    }
    return undefined;
  }

  private storageTask(r: FakeRequest, id: string): FakeResponse {
    if (!r.query.get('unionId')) return { status: 400, body: { code: 'paramError.unionId', message: 'unionId is required', requestid: rid() } };
    const t = this.tasks.get('storage', id);
    if (!t) return { status: 404, body: { code: 'taskNotExist', message: `task ${id} not exist`, requestid: rid() } };
    const p = t.read();
    const status = p.phase === 'queued' ? 'INIT' : p.phase === 'running' ? 'IN_PROGRESS' : p.outcome === 'failed' ? 'FAIL' : 'SUCCESS';
    return {
      status: 200,
      body: {
        task: {
          id,
          status,
          totalCount: t.script.total,
          successCount: p.succeeded,
          failCount: p.failed,
          ...(status === 'FAIL' && { failMessage: t.script.failMessage ?? 'target folder no longer exists' }),
          beginTime: isoMinute(p.startedAt),
          ...(p.finishedAt && { endTime: isoMinute(p.finishedAt) }),
        },
      },
    };
  }

  private docTask(id: string): FakeResponse {
    const t = this.tasks.get('doc', id);
    if (!t) return { status: 400, body: { code: 'paramError', message: `task ${id} not found`, requestid: rid() } };
    const p = t.read();
    const status =
      p.phase === 'queued' ? -1 : p.phase === 'running' ? 0 : p.outcome === 'succeeded' ? 1 : p.outcome === 'partial' ? 2 : p.succeeded === 0 ? 3 : 4;
    return { status: 200, body: { taskId: id, status, totalCount: t.script.total, succCount: p.succeeded, failCount: p.failed } };
  }

  private userGet(r: FakeRequest): FakeResponse {
    if (!this.tokens.isValid(r.query.get('access_token') ?? undefined)) return { status: 200, body: { errcode: 40014, errmsg: '不合法的access_token' } };
    if (this.denied.has('member')) return { status: 200, body: { errcode: 60011, errmsg: '没有调用该接口的权限', request_id: rid() } };
    const userid = (r.body as { userid?: string } | undefined)?.userid ?? '';
    const unionid = this.users.get(userid);
    if (!unionid) return { status: 200, body: { errcode: 60121, errmsg: '找不到该用户', request_id: rid() } };
    return { status: 200, body: { errcode: 0, errmsg: 'ok', result: { userid, unionid, name: userid }, request_id: rid() } };
  }
}

function rid(): string {
  return Math.random().toString(36).slice(2, 14).toUpperCase();
}

/** DingTalk storage gives times like 2022-07-29T14:55Z. */
function isoMinute(d: Date): string {
  return `${d.toISOString().slice(0, 16)}Z`;
}

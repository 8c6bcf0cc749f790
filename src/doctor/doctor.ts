import { randomUUID } from 'node:crypto';
import { fetchChatRoles } from '../platforms/feishu/chat-roles.js';
import type { Config } from '../config.js';
import type { DingtalkApi } from '../platforms/dingtalk/api-client.js';
import { asTaskbotError, type TaskbotError } from '../domain/errors.js';
import { httpRequest } from '../http/request.js';
import { StreamClient } from '../platforms/dingtalk/stream-client.js';
import { openStore } from '../store/open.js';
import { buildServices } from '../app/services.js';
import { networkChecks } from './network.js';
import type { Check } from './check.js';
import { redactUrl } from '../domain/mask.js';

export type { Check };

/** The platform answered the probe, or refused it for a reason other than a missing permission. */
const permitted = (e: TaskbotError) => !['PERMISSION_DENIED', 'AUTH_FAILED', 'UPSTREAM_UNAVAILABLE', 'UPSTREAM_TIMEOUT', 'RATE_LIMITED'].includes(e.code);

/** Runs a harmless call; a missing permission names what to grant and where. */
async function probe(group: string, name: string, call: () => Promise<unknown>, where: string): Promise<Check> {
  try {
    await call();
    return { group, name, ok: true, detail: 'granted' };
  } catch (e) {
    const err = asTaskbotError(e);
    if (permitted(err)) return { group, name, ok: true, detail: `granted (probe answered ${err.code})` };
    const scopes = err.details.scopes?.join(' | ');
    return {
      group,
      name,
      ok: false,
      detail: `${err.code}: ${err.message}`,
      fix:
        err.code === 'PERMISSION_DENIED'
          ? `grant ${scopes ?? 'the permission'} in ${where}, then publish the app again`
          : 'check the credentials and the network, then run doctor again',
    };
  }
}

/** Every check `taskbot doctor` prints: network paths, credentials, bot, scopes, event delivery, database, clock. */
export async function runDoctor(config: Config): Promise<Check[]> {
  // The way out first: with no path to a platform, every check below fails for that one reason.
  const out: Check[] = await networkChecks(config);
  const { feishu, dingtalk } = buildServices(config, { retry: { policy: { attempts: 2, baseDelayMs: 200, maxDelayMs: 500 } } });

  if (config.feishu && feishu) {
    const g = 'Feishu';
    const f = config.feishu;
    const console_ = 'the Feishu developer console → Permissions & Scopes';
    try {
      const bot = await feishu.botInfo();
      out.push({ group: g, name: 'credentials and token', ok: true, detail: `tenant access token issued for ${f.appId}` });
      out.push({ group: g, name: 'bot', ok: true, detail: `"${bot.name}" (${bot.openId})` });
    } catch (e) {
      const err = asTaskbotError(e);
      out.push(
        err.code === 'AUTH_FAILED'
          ? {
              group: g,
              name: 'credentials and token',
              ok: false,
              detail: err.message,
              fix: 'copy App ID and App Secret again into FEISHU_APP_ID / FEISHU_APP_SECRET (developer console → Credentials & Basic Info)',
            }
          : {
              group: g,
              name: 'bot',
              ok: false,
              detail: `${err.code}: ${err.message}`,
              fix: 'add the Bot capability to the app (developer console → Features → Bot) and publish a version',
            },
      );
    }
    out.push(await probe(g, 'scope: contact tasks', () => feishu.contactTask('0'.repeat(32)), console_));
    out.push(await probe(g, 'scope: drive tasks', () => feishu.driveTaskCheck('1'), console_));
    const now = Math.floor(Date.now() / 1000);
    out.push(
      await probe(g, 'scope: reports', () => feishu.reportQuery({ commit_start_time: now - 60, commit_end_time: now, page_token: '', page_size: 1 }), console_),
    );
    out.push(
      await probe(
        g,
        'scope: send and update cards',
        () => feishu.patchCard('om_taskbot_doctor_probe', JSON.stringify({ schema: '2.0', body: { elements: [] } })),
        console_,
      ),
    );
    // Without it Stop still works, for the person who asked and the admins only.
    const roles = await probe(g, 'scope: group owner and managers (who may stop cards)', () => fetchChatRoles(feishu, 'oc_taskbot_doctor_probe'), console_);
    out.push(roles.ok ? roles : { ...roles, fix: `${roles.fix}; until then only the person who asked for a card and ADMIN_USER_IDS may stop it` });
    const pins = await probe(g, 'scope: pin live cards (pin on)', () => feishu.pin('om_taskbot_doctor_probe'), console_);
    out.push(pins.ok ? pins : { ...pins, fix: `${pins.fix}; until then a chat that sends pin on is told once and nothing is pinned` });
    out.push(await feishuEvents(config.feishu, g));
    out.push(
      await clock(g, `${f.domain}/open-apis/auth/v3/tenant_access_token/internal`, { app_id: f.appId, app_secret: f.appSecret }, config.upstreamTimeoutMs),
    );
  }

  if (config.dingtalk && dingtalk) {
    const g = 'DingTalk';
    const d = config.dingtalk;
    const console_ = 'the DingTalk developer console → 权限管理 (permissions)';
    out.push(await probe(g, 'credentials and token; permission: doc tasks', () => dingtalk.docTask('doctor-probe'), console_));
    out.push(await probe(g, 'permission: storage tasks', () => dingtalk.storageTask('doctor-probe', 'doctor-probe'), console_));
    out.push(await probe(g, 'permission: user lookup (unionId)', () => dingtalk.unionIdOf('taskbot-doctor-probe'), console_));
    out.push(
      await probe(
        g,
        'permission: robot messages',
        () => dingtalk.robotMarkdown(d.robotCode, { group: 'cid-taskbot-doctor-probe' }, { title: 'probe', text: 'probe' }),
        console_,
      ),
    );
    out.push(await cardTemplate(dingtalk, TEMPLATES.card, d.cardTemplateId, g, console_));
    out.push(await cardTemplate(dingtalk, TEMPLATES.topBox, d.topBoxTemplateId, g, console_));
    out.push(await cardTemplate(dingtalk, TEMPLATES.form, d.formTemplateId, g, console_));
    try {
      await new StreamClient({ clientId: d.clientId, clientSecret: d.clientSecret, apiBase: d.apiBase, timeoutMs: config.upstreamTimeoutMs }).getEndpoint();
      out.push({ group: g, name: 'Stream mode', ok: true, detail: 'gateway issued a connection ticket' });
    } catch (e) {
      out.push({
        group: g,
        name: 'Stream mode',
        ok: false,
        detail: asTaskbotError(e).message,
        fix: 'choose Stream mode for the robot (developer console → robot → message receiving mode) and check DINGTALK_API_BASE',
      });
    }
    out.push(await clock(g, `${d.apiBase}/v1.0/oauth2/accessToken`, { appKey: d.clientId, appSecret: d.clientSecret }, config.upstreamTimeoutMs));
  }

  try {
    const store = await openStore(config.databaseUrl);
    await store.ping();
    const waiting = await store.cards.waitingForAdmin();
    await store.close();
    out.push({ group: 'Database', name: 'store', ok: true, detail: `${redactUrl(config.databaseUrl)} reachable, schema up to date` });
    // What the running bot ran into: card writes the platform refuses until the admin acts.
    out.push(
      waiting.length === 0
        ? { group: 'Cards', name: 'updates', ok: true, detail: 'no card is waiting for the admin' }
        : {
            group: 'Cards',
            name: 'updates',
            ok: false,
            detail: waiting.map((w) => `${w.cards} card(s) cannot be updated: ${w.problem}`).join('; '),
            fix: 'grant the scope named (or renew the authorisation or quota) in the developer console and publish the app again; the cards catch up by themselves',
          },
    );
  } catch (e) {
    out.push({
      group: 'Database',
      name: 'store',
      ok: false,
      detail: e instanceof Error ? e.message : String(e),
      fix: 'check DATABASE_URL (sqlite:PATH or postgres://user@host:5432/db) and that the database is running',
    });
  }
  return out;
}

/** The DingTalk templates taskbot uses: the group card, the top box (吊顶) that pins it, and help's Track a task form. */
const TEMPLATES = {
  card: { name: 'card template and card permission', variable: 'DINGTALK_CARD_TEMPLATE_ID', file: 'taskbot-card.json', unset: 'answers are markdown' },
  topBox: {
    name: 'top-box template (pin on)',
    variable: 'DINGTALK_TOPBOX_TEMPLATE_ID',
    file: 'taskbot-topbox.json',
    unset: 'no pins: pin on says what to set',
  },
  form: {
    name: 'form template (Track a task)',
    variable: 'DINGTALK_FORM_TEMPLATE_ID',
    file: 'taskbot-form.json',
    unset: 'help lists the commands, without the form',
  },
} as const;

/**
 * A template and the card permission, proven by creating a card instance from the template
 * without delivering it (nobody sees it): success means the id is a template of this app and the
 * app may create cards; the platform's refusal says which of the two is wrong.
 */
async function cardTemplate(
  api: DingtalkApi,
  t: (typeof TEMPLATES)[keyof typeof TEMPLATES],
  templateId: string | undefined,
  group: string,
  where: string,
): Promise<Check> {
  const name = t.name;
  if (!templateId) return { group, name, ok: true, detail: `${t.variable} not set: ${t.unset} (import cards/dingtalk/${t.file} to use it)` };
  try {
    await api.createCardInstance(templateId, `tb-doctor-${randomUUID()}`);
    return { group, name, ok: true, detail: `template ${templateId} exists and the app may create cards (an undelivered card instance was created)` };
  } catch (e) {
    const err = asTaskbotError(e);
    const fix =
      err.code === 'NOT_CONFIGURED'
        ? `${t.variable} is not a template of this app: import cards/dingtalk/${t.file} in the card platform (卡片平台 → 更多 → 导入), save it, and copy its template id`
        : err.code === 'PERMISSION_DENIED'
          ? `grant ${err.details.scopes?.join(' | ') ?? 'Card.Instance.Write'} in ${where}, then publish the app again`
          : 'check the credentials and the network, then run doctor again';
    return { group, name, ok: false, detail: `${err.code}: ${err.message}`, fix };
  }
}

async function feishuEvents(f: NonNullable<Config['feishu']>, group: string): Promise<Check> {
  if (f.eventMode === 'webhook') {
    return {
      group,
      name: 'event mode',
      ok: true,
      detail: 'webhook: encrypt key and verification token set; request URLs https://<host>/feishu/webhook/event and /feishu/webhook/card',
    };
  }
  try {
    const res = await httpRequest({
      url: `${f.domain}/callback/ws/endpoint`,
      method: 'POST',
      json: { AppID: f.appId, AppSecret: f.appSecret },
      timeoutMs: 10_000,
      endpoint: 'feishu ws endpoint',
    });
    const code = (JSON.parse(res.text) as { code?: number }).code;
    if (res.status === 200 && code === 0) return { group, name: 'event mode', ok: true, detail: 'long connection: endpoint issued' };
    return {
      group,
      name: 'event mode',
      ok: false,
      detail: `long connection endpoint refused (HTTP ${res.status}, code ${code})`,
      fix: 'choose "Receive events through persistent connection" in Events & Callbacks',
    };
  } catch (e) {
    return { group, name: 'event mode', ok: false, detail: asTaskbotError(e).message, fix: 'check FEISHU_DOMAIN and the network' };
  }
}

/** Signed requests and schedules need a right clock: compare ours with the platform's Date header. */
async function clock(group: string, url: string, json: unknown, timeoutMs: number): Promise<Check> {
  try {
    const res = await httpRequest({ url, method: 'POST', json, timeoutMs, endpoint: 'clock' });
    const theirs = Date.parse(res.headers.date ?? '');
    if (Number.isNaN(theirs)) return { group, name: 'clock', ok: true, detail: 'the platform sent no Date header to compare with' };
    const skew = Math.round((Date.now() - theirs) / 1000);
    return Math.abs(skew) <= 60
      ? { group, name: 'clock', ok: true, detail: `within ${Math.abs(skew)} s of the platform` }
      : {
          group,
          name: 'clock',
          ok: false,
          detail: `${skew} s off the platform's clock`,
          fix: 'synchronise the system clock (NTP): webhook signatures and digests depend on it',
        };
  } catch (e) {
    return { group, name: 'clock', ok: false, detail: asTaskbotError(e).message, fix: 'check the network' };
  }
}

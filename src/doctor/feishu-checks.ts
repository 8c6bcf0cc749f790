import { credentialsSetting, settingOf, type FeishuAppConfig } from '../apps-file.js';
import { asTaskbotError } from '../domain/errors.js';
import { httpRequest } from '../http/request.js';
import type { FeishuApi } from '../platforms/feishu/api-client.js';
import { fetchChatRoles } from '../platforms/feishu/chat-roles.js';
import { clock, probe, type Check } from './check.js';

/** A Feishu (or Lark) app: credentials, bot, scopes, event delivery, clock. */
export async function feishuAppChecks(f: FeishuAppConfig, feishu: FeishuApi, timeoutMs: number): Promise<Check[]> {
  const out: Check[] = [];
  const g = f.id === 'feishu' ? 'Feishu' : `Feishu app ${f.id}`;
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
            fix: `copy App ID and App Secret again into ${credentialsSetting(f)} (developer console → Credentials & Basic Info)`,
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
  out.push(
    roles.ok
      ? roles
      : { ...roles, fix: `${roles.fix}; until then only the person who asked for a card and ${settingOf(f, 'ADMIN_USER_IDS', 'adminUserIds')} may stop it` },
  );
  const pins = await probe(g, 'scope: pin live cards (pin on)', () => feishu.pin('om_taskbot_doctor_probe'), console_);
  out.push(pins.ok ? pins : { ...pins, fix: `${pins.fix}; until then a chat that sends pin on is told once and nothing is pinned` });
  out.push(await feishuEvents(f, g));
  out.push(await clock(g, `${f.domain}/open-apis/auth/v3/tenant_access_token/internal`, { app_id: f.appId, app_secret: f.appSecret }, timeoutMs));
  return out;
}

async function feishuEvents(f: FeishuAppConfig, group: string): Promise<Check> {
  if (f.eventMode === 'webhook') {
    return {
      group,
      name: 'event mode',
      ok: true,
      detail: `webhook: encrypt key and verification token set; request URLs https://<host>/feishu/${f.id}/webhook/event and …/card`,
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
    return { group, name: 'event mode', ok: false, detail: asTaskbotError(e).message, fix: `check ${settingOf(f, 'FEISHU_DOMAIN', 'domain')} and the network` };
  }
}

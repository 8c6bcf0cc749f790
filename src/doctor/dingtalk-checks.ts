import { randomUUID } from 'node:crypto';
import { credentialsSetting, settingOf, type DingtalkAppConfig } from '../apps-file.js';
import { asTaskbotError } from '../domain/errors.js';
import type { DingtalkApi } from '../platforms/dingtalk/api-client.js';
import { StreamClient } from '../platforms/dingtalk/stream-client.js';
import { clock, probe, type Check } from './check.js';

/** A DingTalk app: credentials, permissions, templates, Stream mode, clock. */
export async function dingtalkAppChecks(d: DingtalkAppConfig, dingtalk: DingtalkApi, timeoutMs: number): Promise<Check[]> {
  const out: Check[] = [];
  const g = d.id === 'dingtalk' ? 'DingTalk' : `DingTalk app ${d.id}`;
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
  out.push(await cardTemplate(dingtalk, TEMPLATES.card, d, d.cardTemplateId, g, console_));
  out.push(await cardTemplate(dingtalk, TEMPLATES.topBox, d, d.topBoxTemplateId, g, console_));
  out.push(await cardTemplate(dingtalk, TEMPLATES.form, d, d.formTemplateId, g, console_));
  try {
    await new StreamClient({
      clientId: d.clientId,
      clientSecret: d.clientSecret,
      credentials: credentialsSetting(d),
      apiBase: d.apiBase,
      timeoutMs,
    }).getEndpoint();
    out.push({ group: g, name: 'Stream mode', ok: true, detail: 'gateway issued a connection ticket' });
  } catch (e) {
    out.push({
      group: g,
      name: 'Stream mode',
      ok: false,
      detail: asTaskbotError(e).message,
      fix: `choose Stream mode for the robot (developer console → robot → message receiving mode) and check ${settingOf(d, 'DINGTALK_API_BASE', 'apiBase')}`,
    });
  }
  out.push(await clock(g, `${d.apiBase}/v1.0/oauth2/accessToken`, { appKey: d.clientId, appSecret: d.clientSecret }, timeoutMs));
  return out;
}

/** The DingTalk templates taskbot uses: the group card, the top box (吊顶) that pins it, and help's Track a task form. */
const TEMPLATES = {
  card: {
    name: 'card template and card permission',
    variable: 'DINGTALK_CARD_TEMPLATE_ID',
    key: 'cardTemplateId',
    file: 'taskbot-card.json',
    unset: 'answers are markdown',
  },
  topBox: {
    name: 'top-box template (pin on)',
    variable: 'DINGTALK_TOPBOX_TEMPLATE_ID',
    key: 'topboxTemplateId',
    file: 'taskbot-topbox.json',
    unset: 'no pins: pin on says what to set',
  },
  form: {
    name: 'form template (Track a task)',
    variable: 'DINGTALK_FORM_TEMPLATE_ID',
    key: 'formTemplateId',
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
  app: DingtalkAppConfig,
  templateId: string | undefined,
  group: string,
  where: string,
): Promise<Check> {
  const name = t.name;
  const setting = settingOf(app, t.variable, t.key);
  if (!templateId) return { group, name, ok: true, detail: `${setting} not set: ${t.unset} (import cards/dingtalk/${t.file} to use it)` };
  try {
    await api.createCardInstance(templateId, `tb-doctor-${randomUUID()}`);
    return { group, name, ok: true, detail: `template ${templateId} exists and the app may create cards (an undelivered card instance was created)` };
  } catch (e) {
    const err = asTaskbotError(e);
    const fix =
      err.code === 'NOT_CONFIGURED'
        ? `${setting} is not a template of this app: import cards/dingtalk/${t.file} in the card platform (卡片平台 → 更多 → 导入), save it, and copy its template id`
        : err.code === 'PERMISSION_DENIED'
          ? `grant ${err.details.scopes?.join(' | ') ?? 'Card.Instance.Write'} in ${where}, then publish the app again`
          : 'check the credentials and the network, then run doctor again';
    return { group, name, ok: false, detail: `${err.code}: ${err.message}`, fix };
  }
}

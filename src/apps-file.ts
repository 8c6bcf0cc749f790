import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { isTimeZone } from './domain/time-zone.js';
import type { Locale } from './domain/locale.js';
import { APP_ID } from './domain/apps.js';

/**
 * The apps taskbot serves (DESIGN §8, README "Several apps"): each a separate identity with its
 * own credentials, limits, admins and chats. Stored data is keyed by `id`; the apps the single-app
 * variables define are `feishu` and `dingtalk`, so a database made before there were several keeps
 * its rows. Marketplace and DingTalk suite apps would add a token source and a tenant key here.
 */
export type AppConfig = FeishuAppConfig | DingtalkAppConfig;

interface AppCommon {
  id: string;
  /** User and chat ids are the app's own: these lists mean nothing in another app. */
  adminUserIds: string[];
  allowedChatIds: string[];
  locale: Locale;
  digestTimeZone: string;
}

/** Where an app's setting is written: the single-app variable for the apps `feishu` and `dingtalk`, else its key in APPS_FILE. */
export const settingOf = (app: { id: string }, variable: string, key: string): string =>
  app.id === 'feishu' || app.id === 'dingtalk' ? variable : `${key} of the app "${app.id}" in APPS_FILE`;

/** Where an app's credentials are written: what the line saying they were refused names. */
export const credentialsSetting = (app: AppConfig): string =>
  app.platform === 'feishu'
    ? settingOf(app, 'FEISHU_APP_ID / FEISHU_APP_SECRET', 'appId / appSecret')
    : settingOf(app, 'DINGTALK_CLIENT_ID / DINGTALK_CLIENT_SECRET', 'clientId / clientSecret');

export interface FeishuAppConfig extends AppCommon {
  platform: 'feishu';
  appId: string;
  appSecret: string;
  domain: string;
  eventMode: 'ws' | 'webhook';
  encryptKey?: string;
  verificationToken?: string;
}

export interface DingtalkAppConfig extends AppCommon {
  platform: 'dingtalk';
  clientId: string;
  clientSecret: string;
  robotCode: string;
  apiBase: string;
  oapiBase: string;
  cardTemplateId?: string;
  topBoxTemplateId?: string;
  formTemplateId?: string;
}

/** Defaults of an app that names none: the operator's global settings. */
export interface AppDefaults {
  locale: Locale;
  digestTimeZone: string;
}

// Messages never repeat a value: it may be a secret.
const text = (what: string) =>
  z
    .string({ error: `must be ${what}` })
    .trim()
    .min(1, `must be ${what}`);
const ids = z.array(text('an id'), { error: 'must be a list of ids' }).default([]);
const base = (example: string) =>
  text(`an https URL, e.g. ${example}`)
    .refine(isHttpsOrLoopback, `must be an https URL (or http on loopback), e.g. ${example}`)
    .transform((v) => v.replace(/\/+$/, ''));
const common = {
  id: text('a lowercase id').regex(APP_ID, 'must be 1 to 32 of a-z, 0-9 and -'),
  adminUserIds: ids,
  allowedChatIds: ids,
  locale: z.enum(['zh', 'en'], { error: 'must be zh or en' }).optional(),
  digestTimezone: text('an IANA time zone').refine(isTimeZone, 'must be an IANA time zone, e.g. Asia/Shanghai').optional(),
};

const FeishuApp = z
  .strictObject({
    ...common,
    platform: z.literal('feishu'),
    appId: text('the app id (cli_…)'),
    appSecret: text('the app secret'),
    domain: base('https://open.feishu.cn or https://open.larksuite.com').default('https://open.feishu.cn'),
    eventMode: z.enum(['ws', 'webhook'], { error: 'must be ws or webhook' }).default('ws'),
    encryptKey: text('the Encrypt Key').optional(),
    verificationToken: text('the Verification Token').optional(),
  })
  .superRefine((a, ctx) => {
    // The SDK's long connection silently does nothing for any other app id shape.
    if (a.eventMode === 'ws' && !/^cli_[0-9a-f]{16}$/.test(a.appId)) {
      ctx.addIssue({ code: 'custom', path: ['appId'], message: 'must look like cli_ followed by 16 hex digits' });
    }
    if (a.eventMode === 'webhook') {
      for (const k of ['encryptKey', 'verificationToken'] as const) {
        if (!a[k]) ctx.addIssue({ code: 'custom', path: [k], message: 'is required with eventMode: webhook' });
      }
    }
  });

const DingtalkApp = z.strictObject({
  ...common,
  platform: z.literal('dingtalk'),
  clientId: text('the client id (AppKey)'),
  clientSecret: text('the client secret (AppSecret)'),
  robotCode: text('the robot code').optional(),
  apiBase: base('https://api.dingtalk.com').default('https://api.dingtalk.com'),
  oapiBase: base('https://oapi.dingtalk.com').default('https://oapi.dingtalk.com'),
  cardTemplateId: text('a card template id').optional(),
  topboxTemplateId: text('a card template id').optional(),
  formTemplateId: text('a card template id').optional(),
});

/** Start-up stops on this: one line naming the file, the app and the key, never a value. */
export class AppsFileError extends Error {}

/**
 * Reads the apps of `path` (YAML or JSON; `${NAME}` taken from `env`), checked whole before any
 * is used. `taken`: ids already defined (by the single-app variables), which the file may not reuse.
 */
export function readAppsFile(
  path: string,
  env: Record<string, string | undefined>,
  defaults: AppDefaults,
  taken: readonly AppConfig[] = [],
  read: (p: string) => string = (p) => readFileSync(p, 'utf8'),
): AppConfig[] {
  const fail = (where: string, why: string): never => {
    throw new AppsFileError(`APPS_FILE ${path}: ${where ? `${where}: ` : ''}${why}`);
  };
  let source: string;
  try {
    source = read(path);
  } catch (e) {
    return fail('', `cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let doc: unknown;
  try {
    doc = parse(source, { prettyErrors: false });
  } catch (e) {
    const line = (e as { linePos?: [{ line: number }] }).linePos?.[0]?.line;
    return fail('', `is not YAML or JSON${line ? ` (line ${line})` : ''}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return fail('', 'must hold "apps:", a list of apps');
  const extra = Object.keys(doc).find((k) => k !== 'apps');
  if (extra !== undefined) return fail('', `unknown key "${extra}" (only "apps:" is read)`);
  const list = (doc as { apps?: unknown }).apps;
  if (!Array.isArray(list) || list.length === 0) return fail('', 'holds no apps ("apps:" must be a list of at least one)');

  const apps: AppConfig[] = [];
  for (const [i, raw] of list.entries()) {
    const rawId = raw && typeof raw === 'object' && typeof (raw as { id?: unknown }).id === 'string' ? (raw as { id: string }).id : undefined;
    const where = `apps[${i}]${rawId && APP_ID.test(rawId) ? ` (${rawId})` : ''}`;
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) fail(where, 'must be a mapping of keys');
    const filled = substitute(raw, env, (name, key) => fail(where, `${key}: \${${name}} is not set in the environment`));
    const platform = (filled as { platform?: unknown }).platform;
    if (platform !== 'feishu' && platform !== 'dingtalk') fail(where, 'platform: must be feishu or dingtalk');
    const r = (platform === 'feishu' ? FeishuApp : DingtalkApp).safeParse(filled);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      if (issue.code === 'unrecognized_keys') fail(where, `unknown key "${issue.keys[0]}"`);
      const key = issue.path.join('.');
      const present = issue.path.length === 1 && (filled as Record<string, unknown>)[String(issue.path[0])] !== undefined;
      fail(where, `${key}: ${present || issue.code === 'custom' ? issue.message : 'is required'}`);
    }
    const app = appFromKeys(r.data!, defaults);
    const clash = [...taken, ...apps].find((a) => a.id === app.id);
    if (clash) fail(where, `id: "${app.id}" is already ${taken.includes(clash) ? 'defined by the environment variables' : 'taken'}`);
    const same = [...taken, ...apps].find((a) => credentialId(a) === credentialId(app));
    if (same) fail(where, `${app.platform === 'feishu' ? 'appId' : 'clientId'}: the same as app "${same.id}"'s`);
    apps.push(app);
  }
  return apps;
}

/** An app's settings from its keys (an APPS_FILE entry, or the single-app variables), the global defaults filling what it leaves out. */
export function appFromKeys(a: z.output<typeof FeishuApp> | z.output<typeof DingtalkApp>, d: AppDefaults): AppConfig {
  const shared = {
    id: a.id,
    adminUserIds: a.adminUserIds,
    allowedChatIds: a.allowedChatIds,
    locale: a.locale ?? d.locale,
    digestTimeZone: a.digestTimezone ?? d.digestTimeZone,
  };
  if (a.platform === 'feishu') {
    return {
      ...shared,
      platform: 'feishu',
      appId: a.appId,
      appSecret: a.appSecret,
      domain: a.domain,
      eventMode: a.eventMode,
      ...(a.encryptKey && { encryptKey: a.encryptKey }),
      ...(a.verificationToken && { verificationToken: a.verificationToken }),
    };
  }
  return {
    ...shared,
    platform: 'dingtalk',
    clientId: a.clientId,
    clientSecret: a.clientSecret,
    robotCode: a.robotCode ?? a.clientId,
    apiBase: a.apiBase,
    oapiBase: a.oapiBase,
    ...(a.cardTemplateId && { cardTemplateId: a.cardTemplateId }),
    ...(a.topboxTemplateId && { topBoxTemplateId: a.topboxTemplateId }),
    ...(a.formTemplateId && { formTemplateId: a.formTemplateId }),
  };
}

/** The platform's id of the app: two entries with one are one identity twice. */
function credentialId(a: AppConfig): string {
  return a.platform === 'feishu' ? `feishu:${a.appId}` : `dingtalk:${a.clientId}`;
}

/** `${NAME}` in every string value, from the environment; `missing` is told the first unset name and its key. */
function substitute(node: unknown, env: Record<string, string | undefined>, missing: (name: string, key: string) => never, key = ''): unknown {
  if (typeof node === 'string') {
    return node.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const v = env[name];
      return v === undefined || v === '' ? missing(name, key) : v;
    });
  }
  if (Array.isArray(node)) return node.map((n, i) => substitute(n, env, missing, `${key}[${i}]`));
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, substitute(v, env, missing, key ? `${key}.${k}` : k)]));
  }
  return node;
}

function isHttpsOrLoopback(v: string): boolean {
  try {
    const u = new URL(v);
    if (u.protocol === 'https:') return true;
    return u.protocol === 'http:' && /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/.test(u.hostname);
  } catch {
    return false;
  }
}

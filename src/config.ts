import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { isTimeZone } from './domain/time-zone.js';
import { AppsFileError, appFromKeys, readAppsFile, type AppConfig } from './apps-file.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Each message names the variable's fix; zod's own wording is never shown to an operator. */
const url = (name: string, example: string) =>
  z
    .string()
    .trim()
    .refine((v) => /^https?:\/\/[^\s/]+/.test(v), `${name} must be an http(s) URL, e.g. ${example}`)
    .transform((v) => v.replace(/\/+$/, ''));

const list = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v?.trim() ? v.trim() : undefined));

/** The egress proxy variables, in both cases (src/http/proxy.ts reads them from the process environment). */
export const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy'] as const;
/** Every proxy setting: the proxies and the hosts that go direct. */
export const PROXY_SETTINGS = [...PROXY_VARIABLES, 'NO_PROXY', 'no_proxy'] as const;

/** A proxy URL; the message never repeats the value, which may hold a password. */
const proxyUrl = (name: string) =>
  z
    .string()
    .trim()
    .optional()
    .refine(
      (v) => v === undefined || /^(https?|socks5?):\/\/[^\s/]+\/?$/.test(v),
      `${name} must be a proxy URL with its scheme, e.g. http://user:password@proxy.example.com:3128`,
    );

const Env = z
  .object({
    ...Object.fromEntries(PROXY_VARIABLES.map((n) => [n, proxyUrl(n)])),
    APPS_FILE: optionalText,
    FEISHU_APP_ID: optionalText,
    FEISHU_APP_SECRET: optionalText,
    FEISHU_DOMAIN: url('FEISHU_DOMAIN', 'https://open.feishu.cn').default('https://open.feishu.cn'),
    FEISHU_EVENT_MODE: z.enum(['ws', 'webhook'], { error: 'FEISHU_EVENT_MODE must be ws or webhook' }).default('ws'),
    FEISHU_ENCRYPT_KEY: optionalText,
    FEISHU_VERIFICATION_TOKEN: optionalText,
    DINGTALK_CLIENT_ID: optionalText,
    DINGTALK_CLIENT_SECRET: optionalText,
    DINGTALK_ROBOT_CODE: optionalText,
    DINGTALK_API_BASE: url('DINGTALK_API_BASE', 'https://api.dingtalk.com').default('https://api.dingtalk.com'),
    DINGTALK_OAPI_BASE: url('DINGTALK_OAPI_BASE', 'https://oapi.dingtalk.com').default('https://oapi.dingtalk.com'),
    DINGTALK_CARD_TEMPLATE_ID: optionalText,
    DINGTALK_TOPBOX_TEMPLATE_ID: optionalText,
    DINGTALK_FORM_TEMPLATE_ID: optionalText,
    DATABASE_URL: z
      .string()
      .trim()
      .default('sqlite:./data/taskbot.db')
      .refine((v) => /^sqlite:.+/.test(v) || /^postgres(ql)?:\/\/.+/.test(v), 'DATABASE_URL must be sqlite:PATH or postgres://user@host:port/db'),
    HTTP_HOST: z.string().trim().min(1, 'HTTP_HOST must be a host name or address, e.g. 127.0.0.1').default('127.0.0.1'),
    HTTP_PORT: z.coerce
      .number({ error: 'HTTP_PORT must be a port number, e.g. 3000' })
      .int('HTTP_PORT must be a whole number, e.g. 3000')
      .min(0, 'HTTP_PORT must be between 0 and 65535')
      .max(65535, 'HTTP_PORT must be between 0 and 65535')
      .default(3000),
    BOT_LOCALE: z.enum(['zh', 'en'], { error: 'BOT_LOCALE must be zh or en' }).default('zh'),
    DIGEST_TIMEZONE: z.string().trim().default('Asia/Shanghai').refine(isTimeZone, 'DIGEST_TIMEZONE must be an IANA time zone, e.g. Asia/Shanghai'),
    ALLOWED_CHAT_IDS: list,
    ADMIN_USER_IDS: list,
    LOG_LEVEL: z.enum(LOG_LEVELS, { error: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
    UPSTREAM_TIMEOUT_MS: z.coerce
      .number({ error: 'UPSTREAM_TIMEOUT_MS must be a number of milliseconds, e.g. 10000' })
      .int('UPSTREAM_TIMEOUT_MS must be a whole number of milliseconds')
      .min(100, 'UPSTREAM_TIMEOUT_MS must be at least 100')
      .max(120_000, 'UPSTREAM_TIMEOUT_MS must be at most 120000')
      .default(10_000),
    METRICS_TOKEN: optionalText,
    API_TOKEN: optionalText.refine((v) => v === undefined || v.length >= 16, 'API_TOKEN must be at least 16 characters (e.g. openssl rand -hex 24)'),
    PUBLIC_URL: url('PUBLIC_URL', 'https://taskbot.example.com').optional(),
    RETENTION_DAYS: z.coerce
      .number({ error: 'RETENTION_DAYS must be a number of days, e.g. 30' })
      .int('RETENTION_DAYS must be a whole number of days')
      .min(1, 'RETENTION_DAYS must be at least 1')
      .max(3650, 'RETENTION_DAYS must be at most 3650')
      .default(30),
  })
  .superRefine((e, ctx) => {
    const pair = (a: keyof typeof e, b: keyof typeof e, where: string) => {
      if (e[a] && !e[b]) ctx.addIssue({ code: 'custom', path: [b], message: `${b} is missing: set it together with ${a} (${where})` });
    };
    pair('FEISHU_APP_ID', 'FEISHU_APP_SECRET', 'Feishu developer console → Credentials & Basic Info');
    pair('FEISHU_APP_SECRET', 'FEISHU_APP_ID', 'Feishu developer console → Credentials & Basic Info');
    pair('DINGTALK_CLIENT_ID', 'DINGTALK_CLIENT_SECRET', 'DingTalk developer console → Credentials');
    pair('DINGTALK_CLIENT_SECRET', 'DINGTALK_CLIENT_ID', 'DingTalk developer console → Credentials');
    // The SDK's long connection silently does nothing for any other app id shape.
    if (e.FEISHU_APP_ID && e.FEISHU_EVENT_MODE === 'ws' && !/^cli_[0-9a-f]{16}$/.test(e.FEISHU_APP_ID)) {
      ctx.addIssue({
        code: 'custom',
        path: ['FEISHU_APP_ID'],
        message: 'FEISHU_APP_ID must look like cli_ followed by 16 hex digits (copy it from the developer console)',
      });
    }
    if (e.FEISHU_APP_ID && e.FEISHU_EVENT_MODE === 'webhook') {
      for (const k of ['FEISHU_ENCRYPT_KEY', 'FEISHU_VERIFICATION_TOKEN'] as const) {
        if (!e[k]) {
          ctx.addIssue({
            code: 'custom',
            path: [k],
            message: `${k} is required when FEISHU_EVENT_MODE=webhook (developer console → Events & Callbacks → Encryption Strategy)`,
          });
        }
      }
    }
  });

export type Env = z.output<typeof Env>;

export interface Config {
  /**
   * Every app served (DESIGN §8): the single-app variables define the apps `feishu` and `dingtalk`
   * (ADMIN_USER_IDS and ALLOWED_CHAT_IDS are theirs), APPS_FILE any others.
   */
  apps: AppConfig[];
  databaseUrl: string;
  http: { host: string; port: number };
  locale: 'zh' | 'en';
  digestTimeZone: string;
  logLevel: (typeof LOG_LEVELS)[number];
  upstreamTimeoutMs: number;
  /** Ended cards and unwatched tasks older than this are deleted. */
  retentionDays: number;
  /** When set, GET /metrics wants `Authorization: Bearer <token>`. */
  metricsToken?: string;
  /** When set, the script API (/api/v1/watches) is on and wants `Authorization: Bearer <token>`. */
  apiToken?: string;
  /** Where scripts reach this server (shown by `chatid`, the API description's server); unset: the address the server is bound to. */
  publicUrl?: string;
}

/** Start-up stops on this; its message is one line per bad variable, each naming the fix. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

/**
 * Proxy settings written in the .env file join the process environment, where every HTTP and
 * WebSocket connection looks them up; the real environment wins. (NODE_EXTRA_CA_CERTS cannot come
 * from .env: Node reads it before taskbot starts.)
 */
export function exportProxySettings(merged: Record<string, string | undefined>, target: NodeJS.ProcessEnv = process.env): void {
  for (const name of PROXY_SETTINGS) {
    const v = merged[name];
    if (target[name] === undefined && v !== undefined && v.trim() !== '') target[name] = v.trim();
  }
}

/** The environment over an optional .env file (the real environment wins). */
export function readEnvironment(env: NodeJS.ProcessEnv = process.env, envFile = '.env'): Record<string, string | undefined> {
  const fromFile = existsSync(envFile) ? parseEnv(readFileSync(envFile, 'utf8')) : {};
  return { ...fromFile, ...env };
}

export function loadConfig(env: Record<string, string | undefined>, readFile?: (path: string) => string): Config {
  // Empty strings mean "unset", as in a copied .env.example.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const r = Env.safeParse(cleaned);
  if (!r.success) {
    const seen = new Set<string>();
    const problems = r.error.issues
      .map((i) => {
        const name = String(i.path[0] ?? '');
        return i.message.startsWith(name) ? i.message : `${name}: ${i.message}`;
      })
      .filter((m) => !seen.has(m) && seen.add(m));
    throw new ConfigError(problems);
  }
  const e = r.data;
  const defaults = { locale: e.BOT_LOCALE, digestTimeZone: e.DIGEST_TIMEZONE };
  // The single-app variables are the apps `feishu` and `dingtalk`, with the keys an APPS_FILE entry has.
  const lists = { adminUserIds: e.ADMIN_USER_IDS, allowedChatIds: e.ALLOWED_CHAT_IDS };
  const envApps: AppConfig[] = [
    ...(e.FEISHU_APP_ID && e.FEISHU_APP_SECRET
      ? [
          appFromKeys(
            {
              id: 'feishu',
              platform: 'feishu',
              ...lists,
              appId: e.FEISHU_APP_ID,
              appSecret: e.FEISHU_APP_SECRET,
              domain: e.FEISHU_DOMAIN,
              eventMode: e.FEISHU_EVENT_MODE,
              encryptKey: e.FEISHU_ENCRYPT_KEY,
              verificationToken: e.FEISHU_VERIFICATION_TOKEN,
            },
            defaults,
          ),
        ]
      : []),
    ...(e.DINGTALK_CLIENT_ID && e.DINGTALK_CLIENT_SECRET
      ? [
          appFromKeys(
            {
              id: 'dingtalk',
              platform: 'dingtalk',
              ...lists,
              clientId: e.DINGTALK_CLIENT_ID,
              clientSecret: e.DINGTALK_CLIENT_SECRET,
              robotCode: e.DINGTALK_ROBOT_CODE,
              apiBase: e.DINGTALK_API_BASE,
              oapiBase: e.DINGTALK_OAPI_BASE,
              cardTemplateId: e.DINGTALK_CARD_TEMPLATE_ID,
              topboxTemplateId: e.DINGTALK_TOPBOX_TEMPLATE_ID,
              formTemplateId: e.DINGTALK_FORM_TEMPLATE_ID,
            },
            defaults,
          ),
        ]
      : []),
  ];
  let fileApps: AppConfig[] = [];
  if (e.APPS_FILE) {
    try {
      fileApps = readAppsFile(e.APPS_FILE, env, defaults, envApps, readFile);
    } catch (err) {
      if (err instanceof AppsFileError) throw new ConfigError([err.message]);
      throw err;
    }
  }
  return {
    apps: [...envApps, ...fileApps],
    databaseUrl: e.DATABASE_URL,
    http: { host: e.HTTP_HOST, port: e.HTTP_PORT },
    locale: e.BOT_LOCALE,
    digestTimeZone: e.DIGEST_TIMEZONE,
    logLevel: e.LOG_LEVEL,
    upstreamTimeoutMs: e.UPSTREAM_TIMEOUT_MS,
    retentionDays: e.RETENTION_DAYS,
    ...(e.METRICS_TOKEN && { metricsToken: e.METRICS_TOKEN }),
    ...(e.API_TOKEN && { apiToken: e.API_TOKEN }),
    ...(e.PUBLIC_URL && { publicUrl: e.PUBLIC_URL }),
  };
}

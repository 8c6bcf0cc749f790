import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

const SECRET = 's3cr3t-value-never-shown';
const files: Record<string, string> = {};
const read = (p: string) => {
  if (!(p in files)) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
  return files[p]!;
};
/** The one line start-up prints for `text` as APPS_FILE (with `env`), or the apps it defines. */
function load(text: string, env: Record<string, string> = {}) {
  files['/etc/taskbot/apps.yaml'] = text;
  try {
    return { apps: loadConfig({ APPS_FILE: '/etc/taskbot/apps.yaml', ...env }, read).apps };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0]).not.toContain(SECRET);
    return { error: e.problems[0]! };
  }
}

const HQ = `  - id: hq
    platform: feishu
    appId: cli_a1b2c3d4e5f60718
    appSecret: \${HQ_SECRET}
`;

describe('APPS_FILE', () => {
  it('reads YAML apps with ${NAME} from the environment, each with its own lists and the global defaults', () => {
    const r = load(
      `apps:
${HQ}  - id: intl
    platform: feishu
    domain: https://open.larksuite.com
    appId: cli_ffffffffffffffff
    appSecret: literal-secret
    eventMode: webhook
    encryptKey: \${INTL_KEY}
    verificationToken: tok
    adminUserIds: [ou_admin]
    locale: en
  - id: shanghai
    platform: dingtalk
    clientId: dingabc
    clientSecret: \${SH_SECRET}
    cardTemplateId: tpl
    topboxTemplateId: box
    allowedChatIds: [cid1]
    digestTimezone: Asia/Tokyo
`,
      { HQ_SECRET: SECRET, INTL_KEY: 'k', SH_SECRET: 'x', BOT_LOCALE: 'zh', DIGEST_TIMEZONE: 'Asia/Shanghai', ADMIN_USER_IDS: 'ou_env' },
    );
    expect(r.error).toBeUndefined();
    const [hq, intl, sh] = r.apps!;
    expect(hq).toMatchObject({ id: 'hq', platform: 'feishu', appSecret: SECRET, domain: 'https://open.feishu.cn', eventMode: 'ws', locale: 'zh' });
    // The global lists are the environment-defined apps' only.
    expect(hq).toMatchObject({ adminUserIds: [], allowedChatIds: [], digestTimeZone: 'Asia/Shanghai' });
    expect(intl).toMatchObject({ domain: 'https://open.larksuite.com', eventMode: 'webhook', encryptKey: 'k', adminUserIds: ['ou_admin'], locale: 'en' });
    expect(sh).toMatchObject({ platform: 'dingtalk', robotCode: 'dingabc', topBoxTemplateId: 'box', allowedChatIds: ['cid1'], digestTimeZone: 'Asia/Tokyo' });
  });

  it('reads JSON too, and combines with the single-app variables (the apps feishu and dingtalk)', () => {
    const r = load(JSON.stringify({ apps: [{ id: 'hq', platform: 'feishu', appId: 'cli_a1b2c3d4e5f60718', appSecret: 'x' }] }), {
      DINGTALK_CLIENT_ID: 'd',
      DINGTALK_CLIENT_SECRET: 'e',
      ADMIN_USER_IDS: 'staff1',
    });
    expect(r.apps!.map((a) => [a.id, a.platform])).toEqual([
      ['dingtalk', 'dingtalk'],
      ['hq', 'feishu'],
    ]);
    expect(r.apps![0]!.adminUserIds).toEqual(['staff1']);
  });

  it.each([
    ['a missing file', null, 'APPS_FILE /etc/taskbot/apps.yaml: cannot be read (ENOENT)'],
    ['not YAML', 'apps: [\n  - {id: hq', 'is not YAML or JSON'],
    ['no apps', 'apps: []', 'holds no apps'],
    ['a key beside apps', `apps:\n${HQ}extra: 1`, 'unknown key "extra"'],
    ['an unknown platform', 'apps:\n  - id: x\n    platform: wecom', 'apps[0] (x): platform: must be feishu or dingtalk'],
    ['an unknown key', `apps:\n${HQ}    appSecert: oops`, 'apps[0] (hq): unknown key "appSecert"'],
    ['a missing key', 'apps:\n  - id: hq\n    platform: feishu\n    appId: cli_a1b2c3d4e5f60718', 'apps[0] (hq): appSecret: is required'],
    [
      'a bad id',
      'apps:\n  - id: HQ!\n    platform: feishu\n    appId: cli_a1b2c3d4e5f60718\n    appSecret: x',
      'apps[0]: id: must be 1 to 32 of a-z, 0-9 and -',
    ],
    ['a duplicate id', `apps:\n${HQ}${HQ.replace('cli_a1b2c3d4e5f60718', 'cli_0000000000000000')}`, 'apps[1] (hq): id: "hq" is already taken'],
    ['a duplicate appId', `apps:\n${HQ}${HQ.replace('id: hq', 'id: hq2')}`, `apps[1] (hq2): appId: the same as app "hq"'s`],
    [
      'an unset variable',
      `apps:\n${HQ}`.replace('${HQ_SECRET}', '${NOT_SET_ANYWHERE}'),
      'apps[0] (hq): appSecret: ${NOT_SET_ANYWHERE} is not set in the environment',
    ],
    ['an http domain', `apps:\n${HQ}    domain: http://open.feishu.cn`, 'apps[0] (hq): domain: must be an https URL (or http on loopback)'],
    ['webhook without keys', `apps:\n${HQ}    eventMode: webhook`, 'apps[0] (hq): encryptKey: is required with eventMode: webhook'],
    [
      'an id the variables define',
      `apps:\n${HQ.replace('id: hq', 'id: feishu')}`,
      'apps[0] (feishu): id: "feishu" is already defined by the environment variables',
    ],
    ['a bad language', `apps:\n${HQ}    locale: fr`, 'apps[0] (hq): locale: must be zh or en'],
  ])('stops start-up with one line naming the file, the app and the key, never a value: %s', (_, text, message) => {
    const env = { HQ_SECRET: SECRET, FEISHU_APP_ID: 'cli_9999999999999999', FEISHU_APP_SECRET: SECRET };
    if (text === null) {
      expect(() => loadConfig({ APPS_FILE: '/nowhere.yaml', ...env }, read)).toThrow(ConfigError);
      try {
        loadConfig({ APPS_FILE: '/etc/taskbot/missing.yaml' }, read);
      } catch (e) {
        expect((e as ConfigError).problems).toEqual([message.replace('apps.yaml', 'missing.yaml')]);
      }
      return;
    }
    const r = load(text, text.includes('id: feishu') ? env : { HQ_SECRET: SECRET });
    expect(r.error).toContain('APPS_FILE /etc/taskbot/apps.yaml: ');
    expect(r.error).toContain(message);
  });

  it('accepts http on loopback (a local fake or a tunnel) but not elsewhere', () => {
    expect(load(`apps:\n${HQ}    domain: http://127.0.0.1:8080`, { HQ_SECRET: 'x' }).apps![0]).toMatchObject({ domain: 'http://127.0.0.1:8080' });
    expect(load(`apps:\n${HQ}    domain: http://10.0.0.1`, { HQ_SECRET: 'x' }).error).toContain('domain: must be an https URL');
  });

  it('the example shipped in deploy/ is a valid APPS_FILE: four apps, once its secrets are set', () => {
    const example = join(import.meta.dirname, '../deploy/apps.example.yaml');
    const secrets = {
      HQ_APP_SECRET: SECRET,
      INTL_APP_SECRET: SECRET,
      INTL_ENCRYPT_KEY: SECRET,
      INTL_VERIFICATION_TOKEN: SECRET,
      SH_CLIENT_SECRET: SECRET,
      BJ_CLIENT_SECRET: SECRET,
    };
    const apps = loadConfig({ APPS_FILE: example, ...secrets }).apps;
    expect(apps.map((a) => [a.id, a.platform])).toEqual([
      ['hq', 'feishu'],
      ['intl', 'feishu'],
      ['shanghai', 'dingtalk'],
      ['beijing', 'dingtalk'],
    ]);
    expect(apps[1]).toMatchObject({ domain: 'https://open.larksuite.com', eventMode: 'webhook', locale: 'en', digestTimeZone: 'Europe/Berlin' });
    const { BJ_CLIENT_SECRET: _, ...missing } = secrets;
    expect(() => loadConfig({ APPS_FILE: example, ...missing })).toThrow(/apps\[3\] \(beijing\): clientSecret: \$\{BJ_CLIENT_SECRET\} is not set/);
  });
});

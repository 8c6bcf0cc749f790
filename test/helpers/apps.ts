import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { FakeDingtalk } from '../../src/sandbox/fake-dingtalk.js';
import type { FakeFeishu } from '../../src/sandbox/fake-feishu.js';

/** One app of an APPS_FILE under test: its id, the fake it talks to, and any keys of its own. */
export interface TestApp {
  id: string;
  fake: FakeFeishu | FakeDingtalk;
  extra?: Record<string, unknown>;
}

/**
 * The environment of a bot serving `apps` from an APPS_FILE (YAML), each against its own fake;
 * secrets are `${NAME}` references, set in the returned environment as an operator would.
 */
export function appsFileEnv(apps: TestApp[]): Record<string, string> {
  const env: Record<string, string> = {};
  const entries = apps.map(({ id, fake, extra }) => {
    const secret = `SECRET_${id.toUpperCase().replace(/-/g, '_')}`;
    if (fake instanceof FakeDingtalk) {
      env[secret] = fake.clientSecret;
      return {
        id,
        platform: 'dingtalk',
        clientId: fake.clientId,
        clientSecret: `\${${secret}}`,
        apiBase: fake.baseUrl,
        oapiBase: fake.baseUrl,
        cardTemplateId: 'tpl-taskbot',
        ...extra,
      };
    }
    env[secret] = fake.appSecret;
    return { id, platform: 'feishu', appId: fake.appId, appSecret: `\${${secret}}`, domain: fake.baseUrl, ...extra };
  });
  const file = join(mkdtempSync(join(tmpdir(), 'taskbot-apps-')), 'apps.yaml');
  writeFileSync(file, stringify({ apps: entries }));
  return { ...env, APPS_FILE: file };
}

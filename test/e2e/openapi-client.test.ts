import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import createClient from 'openapi-fetch';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bot } from '../../src/app/bot.js';
import { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import { startTestBot, until } from '../helpers/bot.js';
import { feishuEnv } from '../helpers/env.js';
import type { paths } from '../generated/script-api.js';

const TOKEN = 'test-api-token-0123456789';
const ROOT = join(import.meta.dirname, '../..');
/** Made by openapi-typescript from the served description (regenerate: npx openapi-typescript <openapi.json> -o test/generated/script-api.d.ts). */
const GENERATED = join(ROOT, 'test/generated/script-api.d.ts');

/** The script API's description, judged and used by tools nobody here wrote: Redocly's linter, openapi-typescript and openapi-fetch. */
describe('the OpenAPI description of the script API', () => {
  let fake: FakeFeishu;
  let bot: Bot;
  let doc: Record<string, unknown>;

  beforeAll(async () => {
    fake = new FakeFeishu();
    await fake.listen();
    ({ bot } = await startTestBot({ ...feishuEnv(fake), API_TOKEN: TOKEN }));
    doc = (await (await fetch(`${bot.url}/api/v1/openapi.json`)).json()) as Record<string, unknown>;
  });
  afterAll(async () => {
    await bot?.stop();
    await fake?.close();
  });

  it("passes Redocly's recommended rules with no error or warning", () => {
    const file = join(mkdtempSync(join(tmpdir(), 'openapi-')), 'openapi.json');
    writeFileSync(file, JSON.stringify(doc));
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/@redocly/cli/bin/cli.js'), 'lint', file, '--extends', 'recommended', '--format', 'json'], {
      encoding: 'utf8',
    });
    const report = JSON.parse(r.stdout) as { totals: { errors: number; warnings: number }; problems: { message: string }[] };
    expect(report.problems.map((p) => p.message)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    expect(r.status).toBe(0);
  });

  it('names this server and each operation (what generated clients call their methods)', () => {
    expect(doc.servers).toEqual([{ url: bot.url, description: 'this taskbot (PUBLIC_URL)' }]);
    const ops = Object.values(doc.paths as Record<string, Record<string, { operationId?: string }>>).flatMap((p) => Object.values(p).map((o) => o.operationId));
    expect(ops).toEqual(['createWatch', 'getWatch', 'stopWatch']);
  });

  it('the committed client types are what openapi-typescript makes of the served description', async () => {
    const made = astToString(await openapiTS(doc as unknown as Parameters<typeof openapiTS>[0]));
    const committed = readFileSync(GENERATED, 'utf8');
    const body = (s: string) => s.slice(s.indexOf('export interface paths'));
    expect(body(committed)).toBe(body(made));
  });

  it('a client generated from it (openapi-fetch) posts a card, reads it and stops it on the running bot', async () => {
    const api = createClient<paths>({ baseUrl: (doc.servers as { url: string }[])[0]!.url, headers: { authorization: `Bearer ${TOKEN}` } });
    fake.addTask({ id: '7360595374803812356', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 50 });
    const created = await api.POST('/api/v1/watches', {
      body: { platform: 'feishu', chatId: 'oc_client', taskId: '7360595374803812356' },
      params: { header: { 'Idempotency-Key': 'client-1' } },
    });
    expect(created.response.status).toBe(201);
    const cardKey = created.data!.cardKey;
    expect(cardKey).toMatch(/^feishu:om_/);
    expect(created.data!.app).toBe('feishu');

    const got = await api.GET('/api/v1/watches/{cardKey}', { params: { path: { cardKey } } });
    expect(got.data).toMatchObject({ cardKey, app: 'feishu', platform: 'feishu', chatId: 'oc_client', status: 'active', waiting: 0 });

    const stopped = await api.DELETE('/api/v1/watches/{cardKey}', { params: { path: { cardKey } } });
    expect(stopped.data).toEqual({ cardKey, app: 'feishu', status: 'stopped' });
    await until('the card marked stopped', () => JSON.stringify(fake.im.inChat('oc_client')[0]?.card).includes('stopped'));

    // Errors come back typed as the description says.
    const missing = await api.GET('/api/v1/watches/{cardKey}', { params: { path: { cardKey: 'feishu:om_nope' } } });
    expect(missing.response.status).toBe(404);
    expect(missing.error).toMatchObject({ error: { code: 'CARD_NOT_FOUND' } });
  });
});

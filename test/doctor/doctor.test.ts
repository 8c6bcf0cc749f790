import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDoctor } from '../../src/doctor/doctor.js';
import { loadConfig } from '../../src/config.js';
import { FakeDingtalk } from '../../src/sandbox/fake-dingtalk.js';
import { dingtalkEnv } from '../helpers/env.js';
import { appsFileEnv } from '../helpers/apps.js';
import { cardRow, taskRow } from '../helpers/rows.js';

describe('taskbot doctor: the DingTalk card template', () => {
  let fake: FakeDingtalk;
  beforeEach(async () => {
    fake = new FakeDingtalk();
    await fake.listen();
    fake.im.templates.add('tpl-taskbot');
  });
  afterEach(() => fake.close());

  const check = async (env: Record<string, string> = {}, name = 'card template and card permission') => {
    const config = loadConfig({ ...dingtalkEnv(fake), DATABASE_URL: `sqlite:${join(mkdtempSync(join(tmpdir(), 'doctor-')), 'd.db')}`, ...env });
    return (await runDoctor(config)).find((c) => c.name === name)!;
  };

  it('proves the template exists and cards may be created, with a card nobody sees', async () => {
    const c = await check();
    expect(c).toMatchObject({ ok: true });
    expect(c.detail).toContain('undelivered');
    expect(fake.im.undelivered.size).toBe(1);
    expect(fake.im.cards.size).toBe(0); // nothing was delivered to any chat
  });

  it("names a template id that is not one of the app's, and how to get one", async () => {
    const c = await check({ DINGTALK_CARD_TEMPLATE_ID: 'tpl-typo' });
    expect(c).toMatchObject({ ok: false });
    expect(c.detail).toMatch(/^NOT_CONFIGURED: /);
    expect(c.fix).toContain('cards/dingtalk/taskbot-card.json');
  });

  it.each([
    ['top-box template (pin on)', 'DINGTALK_TOPBOX_TEMPLATE_ID', 'tpl-top', 'taskbot-topbox.json'],
    ['form template (Track a task)', 'DINGTALK_FORM_TEMPLATE_ID', 'tpl-form', 'taskbot-form.json'],
  ])("the %s: unset says what it is for; a wrong id names its file; a good one is proven like the card's", async (name, variable, id, file) => {
    const probe = (env: Record<string, string>) => check(env, name);
    expect(await probe({})).toMatchObject({ ok: true, detail: expect.stringContaining(`${variable} not set`) });
    expect(await probe({ [variable]: id })).toMatchObject({ ok: false, fix: expect.stringContaining(`cards/dingtalk/${file}`) });
    fake.im.templates.add(id);
    expect(await probe({ [variable]: id })).toMatchObject({ ok: true, detail: expect.stringContaining(`template ${id} exists`) });
  });

  it('names the card permission when the app lacks it', async () => {
    fake.denyScope('card');
    const c = await check();
    expect(c).toMatchObject({ ok: false });
    expect(c.fix).toContain('Card.Instance.Write');
  });
});

describe('taskbot doctor: what the running bot ran into', () => {
  it('lists the cards that wait for the admin, and what for', async () => {
    const { openStore } = await import('../../src/store/open.js');
    const url = `sqlite:${join(mkdtempSync(join(tmpdir(), 'doctor-')), 'd.db')}`;
    const store = await openStore(url);
    const t = taskRow('feishu:drive:1', { snapshot_hash: 'h', next_due_at: 0 });
    for (const n of [1, 2]) await store.cards.add(cardRow(`feishu:om_${n}`, t.task_key, { locale: 'en' }), t, false);
    const before = (await runDoctor(loadConfig({ DATABASE_URL: url }))).find((c) => c.group === 'Cards')!;
    expect(before).toMatchObject({ ok: true });
    for (const n of [1, 2]) await store.cards.recordFailure(`feishu:om_${n}`, 3, 10_000, 'PERMISSION_DENIED: im:message | im:message:send_as_bot');
    await store.close();
    const after = (await runDoctor(loadConfig({ DATABASE_URL: url }))).find((c) => c.group === 'Cards')!;
    expect(after).toMatchObject({ ok: false, detail: '2 card(s) cannot be updated: PERMISSION_DENIED: im:message | im:message:send_as_bot' });
    expect(after.fix).toContain('grant the scope');
  });
});

describe('taskbot doctor: several apps', () => {
  it('checks each app in its own group, naming its APPS_FILE keys; --app checks one', async () => {
    const [sh, bj] = [new FakeDingtalk(), new FakeDingtalk('dingfakeclientbj', 'bj-secret')];
    await Promise.all([sh.listen(), bj.listen()]);
    try {
      sh.im.templates.add('tpl-taskbot');
      bj.im.templates.add('tpl-taskbot');
      const env = appsFileEnv([
        { id: 'sh', fake: sh },
        { id: 'bj', fake: bj, extra: { cardTemplateId: 'tpl-typo' } },
      ]);
      const config = loadConfig({ ...env, DATABASE_URL: `sqlite:${join(mkdtempSync(join(tmpdir(), 'doctor-')), 'd.db')}` });
      const card = (checks: Awaited<ReturnType<typeof runDoctor>>, group: string) =>
        checks.find((c) => c.group === group && c.name === 'card template and card permission');
      const all = await runDoctor(config);
      expect(card(all, 'DingTalk app sh')).toMatchObject({ ok: true });
      // One app's mistake is its own, told with the key of its entry, never the single-app variable.
      expect(card(all, 'DingTalk app bj')).toMatchObject({ ok: false, fix: expect.stringContaining('cardTemplateId of the app "bj" in APPS_FILE') });
      // Refused credentials of a file app name its keys, not the single-app variables.
      const refused = loadConfig({
        ...appsFileEnv([{ id: 'bj', fake: bj, extra: { clientSecret: 'wrong-secret' } }]),
        DATABASE_URL: `sqlite:${join(mkdtempSync(join(tmpdir(), 'doctor-')), 'd.db')}`,
      });
      const stream = (await runDoctor(refused)).find((c) => c.group === 'DingTalk app bj' && c.name === 'Stream mode');
      expect(stream).toMatchObject({ ok: false, detail: expect.stringContaining('clientId / clientSecret of the app "bj" in APPS_FILE refused') });
      const one = await runDoctor(config, 'sh');
      expect(one.some((c) => c.group.startsWith('DingTalk app bj'))).toBe(false);
      expect(card(one, 'DingTalk app sh')).toMatchObject({ ok: true });
    } finally {
      await Promise.all([sh.close(), bj.close()]);
    }
  });
});

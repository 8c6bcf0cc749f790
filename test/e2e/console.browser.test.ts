import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { SANDBOX_APPS, startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { SAMPLES } from '../../src/sandbox/samples.js';
import { LogSink } from '../helpers/bot.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = new URL('../../test-results/', import.meta.url).pathname;

describe.runIf(existsSync(CHROMIUM))('sandbox console in a browser (Playwright, headless Chromium)', () => {
  let sandbox: Sandbox;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    sandbox = await startSandbox(loadConfig({ HTTP_PORT: '0', BOT_LOCALE: 'en' }), {
      logger: createLogger('warn', new LogSink()),
      watch: { minPollMs: 300, tickMs: 50 },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
    await page.goto(`${sandbox.url}/`);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await sandbox?.stop();
  });

  for (const platform of ['feishu', 'dingtalk'] as const) {
    it(`${platform}: a status command shows a card that updates until the task ends; Refresh and Stop work`, async () => {
      const chat = page.locator(`.chat[data-app=${platform}]`);
      const done = SAMPLES.find((s) => s.platform === platform && s.outcome === 'succeeded' && !s.slow)!;
      await chat.locator('input[name=text]').fill(`status ${done.id}`);
      await chat.locator('button[type=submit]').click();
      await expect.poll(() => chat.locator('.msg.user').count()).toBeGreaterThan(0);
      const card = chat.locator('.msg.bot .card').last();
      await card.waitFor({ timeout: 10_000 });
      expect(await card.locator('.card-header').textContent()).toContain(done.id);
      // The sample progresses every 2.5 s; the card follows until it is green and its buttons are gone.
      await card.locator('.card-header.t-green').waitFor({ timeout: 30_000 });
      expect(await card.locator('button').count()).toBe(0);

      // A slow task: press Refresh (answered in place), then Stop.
      const slow = SAMPLES.find((s) => s.platform === platform && s.slow)!;
      await page.locator(`[data-sample="${slow.id}"]`).click();
      const live = chat.locator('.msg.bot .card').last();
      await live.locator('button[data-action=refresh]').waitFor({ timeout: 10_000 });
      expect(await live.locator('.card-header').textContent()).toContain(slow.id);
      await live.locator('button[data-action=refresh]').click();
      await expect.poll(() => page.locator('.toast').textContent(), { timeout: 5000 }).toMatch(/Refresh/);
      await live.locator('button[data-action=stop]').click();
      await live.locator('button[data-action=stop]').waitFor({ state: 'detached', timeout: 5000 });
      expect(await live.textContent()).toContain('Automatic updates stopped');
      await page.screenshot({ path: `${ARTIFACTS}console-${platform}.png` });
    }, 60_000);
  }

  it('Notify me: pressed on a live card, the card counts one waiting and the end mentions you (both groups); a slow card shows the time left', async () => {
    for (const platform of ['feishu', 'dingtalk'] as const) {
      const chat = page.locator(`.chat[data-app=${platform}]`);
      // A fresh task (about 12 s long) from the console's "start a task" form.
      await page.locator('.new-task select[name=kind]').selectOption(platform === 'feishu' ? 'drive' : 'doc');
      await page.locator('.new-task button[type=submit]').click();
      const sample = page.locator('.sample-list button').last();
      await sample.click();
      const live = chat.locator('.msg.bot .card').last();
      await live.locator('button[data-action=notify]').waitFor({ timeout: 10_000 });
      const mentions = await chat.locator(platform === 'feishu' ? '.mention-message' : '.markdown').count();
      await live.locator('button[data-action=notify]').click();
      await expect.poll(() => page.locator('.toast').textContent(), { timeout: 5000 }).toMatch(/mentioned here|Notify me toggled/);
      await expect.poll(() => live.textContent(), { timeout: 5000 }).toContain('1 waiting to be notified');
      // The end: one message mentioning the person at the console.
      await expect.poll(() => chat.locator(platform === 'feishu' ? '.mention-message' : '.markdown').count(), { timeout: 40_000 }).toBeGreaterThan(mentions);
      const said = await chat
        .locator(platform === 'feishu' ? '.mention-message' : '.markdown')
        .last()
        .textContent();
      expect(said).toContain(platform === 'feishu' ? '@you' : '@staff001');
      expect(said).toContain('has ended');
    }
    // A slow task says how long is left once its pace is known.
    const chat = page.locator('.chat[data-app=feishu]');
    const slow = SAMPLES.filter((s) => s.platform === 'feishu' && s.slow)[0]!;
    await page.locator(`[data-sample="${slow.id}"]`).click();
    await expect.poll(() => chat.locator('.msg.bot .card').last().textContent(), { timeout: 45_000 }).toMatch(/about \d+ min left|less than a minute left/);
    // Its progress over time, drawn from the chart spec the card carries (the DingTalk card's sparkline is text).
    const curve = chat.locator('.msg.bot .card').last().locator('svg.chart-line polyline');
    await expect.poll(() => curve.count(), { timeout: 10_000 }).toBe(1);
    expect((await curve.getAttribute('points'))!.split(' ').length).toBeGreaterThanOrEqual(2);
    await page.screenshot({ path: `${ARTIFACTS}console-notify.png` });
  }, 120_000);

  it('the script form posts through the API and the card appears in the group', async () => {
    const chat = page.locator('.chat[data-app=feishu]');
    const before = await chat.locator('.msg.bot .card').count();
    const done = SAMPLES.find((s) => s.platform === 'feishu' && s.kind === 'drive' && s.slow)!;
    await page.locator('.script select[name=app]').selectOption('feishu');
    await page.locator('.script input[name=taskId]').fill(done.id);
    await page.locator('.script input[name=title]').fill('Posted by a script');
    await page.locator('.script button[type=submit]').click();
    await expect.poll(() => page.locator('.script-answer').textContent(), { timeout: 10_000 }).toMatch(/→ 201 .*"cardKey":"feishu:om_/);
    expect(await page.locator('.script-answer').textContent()).toContain('curl -X POST');
    await expect.poll(() => chat.locator('.msg.bot .card').count(), { timeout: 10_000 }).toBeGreaterThan(before);
    const posted = chat.locator('.msg.bot .card').last();
    expect(await posted.textContent()).toContain('Posted by a script');
    // The console's person is the sandbox's admin: they may stop a card a script posted.
    await posted.locator('button[data-action=stop]').click();
    await expect.poll(() => posted.textContent(), { timeout: 5000 }).toContain('Automatic updates stopped');
    // And chatid answers with the line to paste.
    await chat.locator('input[name=text]').fill('chatid');
    await chat.locator('input[name=text]').press('Enter');
    await expect.poll(() => chat.locator('.msg.bot').last().textContent(), { timeout: 10_000 }).toContain('oc_sandbox_group');
  }, 30_000);

  it('Export failed items: the final card folds its failures and offers the file; the CSV is posted under it and downloads', async () => {
    const chat = page.locator('.chat[data-app=feishu]');
    const partial = SAMPLES.find((s) => s.platform === 'feishu' && s.kind === 'contact' && s.outcome === 'partial')!;
    await chat.locator('input[name=text]').fill(`status ${partial.id}`);
    await chat.locator('input[name=text]').press('Enter');
    const card = chat.locator(`.msg.bot .card:has(.card-header:has-text("${partial.id}"))`).last();
    await card.locator('.card-header.t-orange').waitFor({ timeout: 30_000 });
    const panel = card.locator('details.panel');
    expect(await panel.locator('summary').textContent()).toBe('Failed items (24)');
    expect(await panel.getAttribute('open')).toBeNull();
    await panel.locator('summary').click();
    expect(await panel.locator('div').first().isVisible()).toBe(true);
    const files = await chat.locator('a.file').count();
    await card.locator('button[data-action=export]').click();
    await expect.poll(() => page.locator('.toast').textContent(), { timeout: 5000 }).toContain('Preparing a file of the failed items');
    await expect.poll(() => chat.locator('a.file').count(), { timeout: 10_000 }).toBeGreaterThan(files);
    const link = chat.locator('a.file').last();
    expect(await link.textContent()).toContain(`failed-contact-${partial.id}.csv`);
    const csv = await page.evaluate(
      async (href) => {
        const bytes = new Uint8Array(await (await fetch(href)).arrayBuffer());
        return { bom: [...bytes.slice(0, 3)], lines: new TextDecoder().decode(bytes).trim().split('\r\n').length };
      },
      (await link.getAttribute('href'))!,
    );
    expect(csv).toEqual({ bom: [0xef, 0xbb, 0xbf], lines: 25 });
    await page.screenshot({ path: `${ARTIFACTS}console-export.png` });
  }, 60_000);

  it('pin on: a live card is pinned (📌; DingTalk: in the top box) while it runs and unpinned when stopped; help carries the Track a task form', async () => {
    const chat = page.locator('.chat[data-app=feishu]');
    const say = async (text: string) => {
      const before = await chat.locator('.msg.bot').count();
      await chat.locator('input[name=text]').fill(text);
      await chat.locator('input[name=text]').press('Enter');
      await expect.poll(() => chat.locator('.msg.bot').count(), { timeout: 10_000 }).toBeGreaterThan(before);
    };
    await say('pin on');
    expect(await chat.locator('.msg.bot').last().textContent()).toContain('pinned while their task runs');
    const slow = SAMPLES.filter((s) => s.platform === 'feishu' && s.slow)[1]!;
    await page.locator(`[data-sample="${slow.id}"]`).click();
    const live = chat.locator(`.msg.bot .card:has(.card-header:has-text("${slow.id}"))`).last();
    await live.locator('.card-header .pin').waitFor({ timeout: 10_000 });
    await live.locator('button[data-action=stop]').click();
    await live.locator('.card-header .pin').waitFor({ state: 'detached', timeout: 10_000 });
    await say('pin off');
    // DingTalk pins in the group's top box (吊顶), above its messages, until the card stops.
    const dt = page.locator('.chat[data-app=dingtalk]');
    const dtBefore = await dt.locator('.msg.bot').count();
    await dt.locator('input[name=text]').fill('pin on');
    await dt.locator('input[name=text]').press('Enter');
    await expect.poll(() => dt.locator('.msg.bot').count(), { timeout: 10_000 }).toBeGreaterThan(dtBefore);
    const dtSlow = SAMPLES.find((s) => s.platform === 'dingtalk' && s.kind === 'doc' && s.slow)!;
    await page.locator(`[data-sample="${dtSlow.id}"]`).click();
    const box = dt.locator(`.topbox .topbox-card:has-text("${dtSlow.id}")`);
    await box.waitFor({ timeout: 10_000 });
    await page.screenshot({ path: `${ARTIFACTS}console-topbox.png` });
    await dt.locator(`.msg.bot .card:has(.card-header:has-text("${dtSlow.id}"))`).last().locator('button[data-action=stop]').click();
    await box.waitFor({ state: 'detached', timeout: 10_000 });
    // The help card's form: a bad id is told in the toast; a good one is the status command.
    await say('help');
    const form = chat.locator('.msg.bot').last().locator('form.track-form');
    await form.locator('input[name=task_id]').fill('not an id');
    await form.locator('button[type=submit]').click();
    await expect.poll(() => page.locator('.toast').textContent(), { timeout: 5000 }).toContain('Did not understand');
    const done = SAMPLES.find((s) => s.platform === 'feishu' && s.kind === 'drive' && s.outcome === 'succeeded' && !s.slow)!;
    await form.locator('input[name=task_id]').fill(done.id);
    await form.locator('select[name=kind]').selectOption('drive');
    await form.locator('button[type=submit]').click();
    await expect.poll(() => page.locator('.toast').textContent(), { timeout: 5000 }).toContain(`Looking up task ${done.id}`);
    await chat.locator(`.msg.bot .card:has(.card-header:has-text("${done.id}"))`).last().waitFor({ timeout: 10_000 });
    await page.screenshot({ path: `${ARTIFACTS}console-form.png` });
  }, 60_000);

  it('DingTalk help: the Track a task form (our form template) follows the usage; a bad id is told under it and it stays filled; a good one posts the live card', async () => {
    const dt = page.locator('.chat[data-app=dingtalk]');
    await dt.locator('input[name=text]').fill('help');
    await dt.locator('input[name=text]').press('Enter');
    // Held by its id: other cards' messages (ends, mentions) may still arrive below it.
    const last = dt.locator('.msg.bot:has(form.track-form)').last();
    await last.waitFor({ timeout: 10_000 });
    const card = dt.locator(`.msg.bot[data-id="${await last.getAttribute('data-id')}"]`);
    const form = card.locator('form.track-form');
    // The usage first (markdown), then the form card: hidden fields are not drawn.
    expect(await card.locator('xpath=preceding-sibling::li[1]').textContent()).toContain('help — this help');
    expect(await form.locator('input[name=chat]').count()).toBe(0);
    await form.locator('input[name=task_id]').fill('not an id');
    await form.locator('button[type=submit]').click();
    await card.locator('.notation:has-text("Did not understand")').waitFor({ timeout: 5000 });
    expect(await card.locator('input[name=task_id]').inputValue()).toBe('not an id');
    const done = SAMPLES.find((s) => s.platform === 'dingtalk' && s.kind === 'doc' && !s.slow)!;
    await card.locator('input[name=task_id]').fill(done.id);
    await card.locator('select[name=kind]').selectOption('doc');
    await card.locator('button[type=submit]').click();
    await expect.poll(() => page.locator('.toast').textContent(), { timeout: 5000 }).toContain(`Looking up task ${done.id}`);
    await dt.locator(`.msg.bot .card:has(.card-header:has-text("${done.id}"))`).last().waitFor({ timeout: 10_000 });
    expect(await card.locator('input[name=task_id]').inputValue()).toBe(done.id);
    await page.screenshot({ path: `${ARTIFACTS}console-dingtalk-form.png` });
  }, 30_000);

  it('one taskbot serves four apps, each group labelled with its app: the same task in two apps makes a card in each, and nothing crosses', async () => {
    const titles = await page.locator('.chat h2').allTextContents();
    expect(titles).toHaveLength(4);
    for (const g of SANDBOX_APPS) expect(titles.find((t) => t.includes(`app ${g.app}`))).toContain(g.label);
    const slow = SAMPLES.filter((s) => s.platform === 'feishu' && s.slow)[2] ?? SAMPLES.find((s) => s.platform === 'feishu' && s.slow)!;
    const feishu = page.locator('.chat[data-app=feishu]');
    const lark = page.locator('.chat[data-app=lark]');
    const beijing = page.locator('.chat[data-app=dingtalk-bj]');
    const before = { feishu: await feishu.locator('.msg.bot').count(), beijing: await beijing.locator('.msg.bot').count() };
    await lark.locator('input[name=text]').fill(`status ${slow.id}`);
    await lark.locator('input[name=text]').press('Enter');
    const card = lark.locator(`.msg.bot .card:has(.card-header:has-text("${slow.id}"))`).last();
    await card.waitFor({ timeout: 10_000 });
    // Stop on the Lark card acts in Lark: its own app's card, its own admin.
    await card.locator('button[data-action=stop]').click();
    await expect.poll(() => page.locator('.toast').textContent(), { timeout: 5000 }).toContain('Stopped');
    const dtDoc = SAMPLES.find((s) => s.platform === 'dingtalk' && s.kind === 'doc' && !s.slow)!;
    await beijing.locator('input[name=text]').fill(`status ${dtDoc.id}`);
    await beijing.locator('input[name=text]').press('Enter');
    await expect.poll(() => beijing.locator('.msg.bot').count(), { timeout: 10_000 }).toBeGreaterThan(before.beijing);
    // Nothing of Lark's or Beijing's shows in the first apps' groups.
    expect(await feishu.locator('.msg.bot').count()).toBe(before.feishu);
    expect(await sandbox.bot.store.cards.overview({ app: 'lark', chatId: 'oc_sandbox_lark', endedLimit: 10 })).toMatchObject({
      cards: [expect.objectContaining({ app: 'lark' })],
    });
    await page.screenshot({ path: `${ARTIFACTS}console-apps.png` });
  }, 30_000);

  it('help and list answer in both groups, and the screenshot of the console is saved', async () => {
    for (const platform of ['feishu', 'dingtalk'] as const) {
      const chat = page.locator(`.chat[data-app=${platform}]`);
      const before = await chat.locator('.msg.bot').count();
      await chat.locator('input[name=text]').fill('list');
      await chat.locator('input[name=text]').press('Enter');
      await expect.poll(() => chat.locator('.msg.bot').count(), { timeout: 10_000 }).toBeGreaterThan(before);
    }
    // The digest draws the period's tasks by outcome as bars, from the chart spec it carries.
    const feishu = page.locator('.chat[data-app=feishu]');
    const tracked = SAMPLES.find((s) => s.platform === 'feishu' && s.outcome === 'failed')!;
    await feishu.locator('input[name=text]').fill(`status ${tracked.id}`);
    await feishu.locator('input[name=text]').press('Enter');
    await feishu.locator(`.msg.bot .card:has(.card-header:has-text("${tracked.id}"))`).last().waitFor({ timeout: 10_000 });
    await feishu.locator('input[name=text]').fill('digest now');
    await feishu.locator('input[name=text]').press('Enter');
    await expect.poll(() => feishu.locator('svg.chart-bar rect.bar').count(), { timeout: 10_000 }).toBe(4);
    await page.screenshot({ path: `${ARTIFACTS}console.png` });
    expect(existsSync(`${ARTIFACTS}console.png`)).toBe(true);
  }, 30_000);
});

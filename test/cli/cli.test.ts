import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import { FakeDingtalk } from '../../src/sandbox/fake-dingtalk.js';
import { until } from '../helpers/bot.js';
import { feishuEnv } from '../helpers/env.js';

const CLI = join(import.meta.dirname, '../../dist/src/cli.js');
const cwd = mkdtempSync(join(tmpdir(), 'taskbot-cli-')); // no stray .env
let feishu: FakeFeishu;
let dingtalk: FakeDingtalk;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd, timeout: 15_000, env: { PATH: process.env.PATH ?? '', BOT_LOCALE: 'en', DIGEST_TIMEZONE: 'Asia/Shanghai', ...env } },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

/** The CLI's settings against the suite's fakes (the CLI needs no card template). */
const feishuNow = () => feishuEnv(feishu);
const dingtalkNow = () => ({
  DINGTALK_CLIENT_ID: dingtalk.clientId,
  DINGTALK_CLIENT_SECRET: dingtalk.clientSecret,
  DINGTALK_API_BASE: dingtalk.baseUrl,
  DINGTALK_OAPI_BASE: dingtalk.baseUrl,
});
const CONTACT = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const DONE = { queuedSteps: 0, runningSteps: 0 };

beforeAll(async () => {
  feishu = new FakeFeishu();
  dingtalk = new FakeDingtalk();
  await Promise.all([feishu.listen(), dingtalk.listen()]);
  feishu.addTask({ id: CONTACT, kind: 'contact', total: 30, outcome: 'partial', ...DONE });
  feishu.addTask({ id: '7360595374803812356', kind: 'drive', total: 1, outcome: 'succeeded', ...DONE });
  feishu.addTask({ id: 'b'.repeat(32), kind: 'contact', total: 9, outcome: 'succeeded', queuedSteps: 1, runningSteps: 3 });
  dingtalk.addTask({ id: 'mv-9', kind: 'storage', total: 40, outcome: 'failed', ...DONE, failMessage: 'quota exceeded' });
  dingtalk.addTask({ id: 'cp-1', kind: 'doc', total: 8, outcome: 'succeeded', ...DONE });
});
afterAll(async () => {
  await Promise.all([feishu.close(), dingtalk.close()]);
});

describe('taskbot status', () => {
  it('summarises a partly failed Feishu contact task with masked contacts and exits 1', async () => {
    const r = await run(['status', CONTACT, '--platform', 'feishu'], feishuNow());
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`Feishu · Contact batch task ${CONTACT}`);
    expect(r.stdout).toContain('Add users');
    expect(r.stdout).toMatch(/State\s+Partly failed/);
    expect(r.stdout).toMatch(/Progress\s+█{20} 100%/);
    expect(r.stdout).toMatch(/Counts\s+30\/30 done · 24 succeeded · 6 failed/);
    expect(r.stdout).toContain('✗ user_1 — 10013 invalid user_id (u***@example.com, 130****0001)');
    expect(r.stdout).not.toContain('user1@example.com');
    expect(r.stdout).toMatch(/Started\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
  });

  it('summarises a finished Feishu drive task and exits 0', async () => {
    const r = await run(['status', '7360595374803812356', '--platform', 'feishu'], feishuNow());
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Drive folder task');
    expect(r.stdout).toMatch(/State\s+Succeeded/);
  });

  it('summarises a failed DingTalk storage task with its reason and exits 1', async () => {
    const r = await run(['status', 'mv-9', '--platform', 'dingtalk', '--union-id', 'u-1'], dingtalkNow());
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('DingTalk storage task mv-9');
    expect(r.stdout).toMatch(/State\s+Failed/);
    expect(r.stdout).toMatch(/Reason\s+quota exceeded/);
  });

  it('finds a DingTalk doc task without a kind, prints Chinese by default, and --json prints the snapshot', async () => {
    const zh = await run(['status', 'cp-1', '--platform', 'dingtalk'], { ...dingtalkNow(), BOT_LOCALE: 'zh' });
    expect(zh.code).toBe(0);
    expect(zh.stdout).toContain('钉钉文档任务 cp-1');
    expect(zh.stdout).toMatch(/状态\s+已完成/);
    const j = await run(['status', 'cp-1', '--platform', 'dingtalk', '--kind', 'doc', '--json'], dingtalkNow());
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ ref: { platform: 'dingtalk', kind: 'doc', id: 'cp-1' }, state: 'succeeded', total: 8 });
  });

  it('says clearly when a task does not exist or an id is malformed (exit 1)', async () => {
    const missing = await run(['status', '123456', '--platform', 'feishu'], feishuNow());
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^No such task.*\(TASK_NOT_FOUND: /);
    const bad = await run(['status', 'hello', '--platform', 'feishu'], feishuNow());
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^That is not a valid task id.*\(INVALID_TASK_ID: .*32 hexadecimal characters/);
    expect(bad.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it('names the missing scope', async () => {
    const f = new FakeFeishu();
    await f.listen();
    f.denyScope('/open-apis/drive/v1/files/task_check');
    try {
      const r = await run(['status', '1', '--platform', 'feishu'], feishuEnv(f));
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('PERMISSION_DENIED');
      expect(r.stderr).toContain('Needed permission: drive:drive | drive:drive.metadata:readonly | drive:drive:readonly');
    } finally {
      await f.close();
    }
  });

  it('ends with a clear timeout, not a hang, when the upstream never answers', async () => {
    const f = new FakeFeishu();
    await f.listen();
    f.inject({ path: /task_check/, kind: 'hang', times: 10 });
    try {
      const r = await run(['status', '1', '--platform', 'feishu'], {
        ...feishuEnv(f),
        UPSTREAM_TIMEOUT_MS: '200',
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^The platform did not answer in time.*\(UPSTREAM_TIMEOUT/);
    } finally {
      await f.close();
    }
  });

  it('--watch redraws progress until the task ends', async () => {
    const r = await run(['status', 'b'.repeat(32), '--platform', 'feishu', '--watch', '--interval', '0.05'], feishuNow());
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const progress = lines.filter((l) => /^\d\d:\d\d:\d\d {2}(Queued|Running|Succeeded)/.test(l));
    expect(progress.map((l) => l.split('  ')[1])).toEqual(['Queued', 'Running', 'Running', 'Running', 'Succeeded']);
    expect(r.stdout).toMatch(/State\s+Succeeded/);
  });

  it.each([
    [['status', '1'], /--platform must be feishu or dingtalk/],
    [['status', '--platform', 'feishu'], /give exactly one task id/],
    [['status', '1', '--platform', 'feishu', '--kind', 'wiki'], /--kind must be one of/],
    [['status', '1', '--platform', 'feishu', '--frobnicate'], /Unknown option '--frobnicate'/],
    [['status', '1', '--platform', 'feishu', '--watch', '--interval', '0'], /--interval must be a positive number/],
    [['reports', '--since', 'yesterday'], /--since takes a duration like 24h/],
    // Several apps (DESIGN §8): an app that is not served is named with the choices.
    [['status', '1', '--platform', 'feishu', '--app', 'nope'], /no feishu app "nope" is configured \(feishu apps: feishu\)/],
    [['status', '1', '--platform', 'dingtalk'], /dingtalk is not configured on this taskbot/],
    [['doctor', '--app', 'nope'], /--app: no app "nope" is configured \(apps: feishu\)/],
    [['reports', '--app', 'nope'], /reports need a Feishu app: no feishu app "nope" is configured/],
    [['launch'], /unknown command "launch"/],
    [['constructor'], /unknown command "constructor"/],
  ])('usage error %j exits 2', async (args, message) => {
    const r = await run(args, feishuNow());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('a bad setting stops with one line naming it (exit 2)', async () => {
    const r = await run(['status', '1', '--platform', 'feishu'], { ...feishuNow(), HTTP_PORT: 'x' });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('config: HTTP_PORT must be a port number, e.g. 3000');
  });
});

describe('taskbot reports', () => {
  it('lists recent submissions and counts them per rule', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const [i, rule] of ['日报', '日报', '周报'].entries()) {
      feishu.reports.push({
        task_id: `r${i}`,
        rule_id: `rule-${rule}`,
        rule_name: rule,
        from_user_id: `ou_${i}`,
        from_user_name: `张${i}`,
        department_name: '研发部',
        department_ids: [],
        commit_time: now - 3600 * (i + 1),
        to_user_ids: [],
        to_user_names: [],
        form_contents: [],
      });
    }
    const r = await run(['reports', '--since', '24h'], feishuNow());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}张0 \(研发部\) {2}日报/);
    expect(r.stdout).toContain('日报: 2 submissions');
    expect(r.stdout).toContain('周报: 1 submissions');
    const none = await run(['reports', '--since', '10m'], feishuNow());
    expect(none.stdout.trim()).toBe('No reports in this period.');
  });
});

describe('taskbot doctor', () => {
  it('runs against the sandbox when no credentials are set, and passes', async () => {
    const r = await run(['doctor']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('checking against the sandbox');
    expect(r.stdout).toContain('All checks passed.');
  });

  it('names a missing scope and a refused secret, with the fix, and exits 1', async () => {
    const f = new FakeFeishu();
    const d = new FakeDingtalk();
    await Promise.all([f.listen(), d.listen()]);
    f.denyScope('/open-apis/drive/v1/files/task_check');
    d.denyScope('storage');
    try {
      const env = {
        ...feishuEnv(f),
        DINGTALK_CLIENT_ID: d.clientId,
        DINGTALK_CLIENT_SECRET: d.clientSecret,
        DINGTALK_API_BASE: d.baseUrl,
        DINGTALK_OAPI_BASE: d.baseUrl,
        DATABASE_URL: `sqlite:${join(cwd, 'doctor.db')}`,
      };
      const r = await run(['doctor'], env);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/✗ scope: drive tasks: PERMISSION_DENIED/);
      expect(r.stdout).toContain('fix: grant drive:drive | drive:drive.metadata:readonly | drive:drive:readonly in the Feishu developer console');
      expect(r.stdout).toMatch(/✓ scope: contact tasks/);
      expect(r.stdout).toMatch(/✗ permission: storage tasks: PERMISSION_DENIED/);
      expect(r.stdout).toContain('fix: grant Storage.Task.Read in the DingTalk developer console');
      expect(r.stdout).toMatch(/✓ store: sqlite:/);

      const bad = await run(['doctor'], { ...env, FEISHU_APP_SECRET: 'wrong', DINGTALK_CLIENT_SECRET: 'wrong' });
      expect(bad.code).toBe(1);
      expect(bad.stdout).toMatch(/✗ credentials and token: Feishu refused FEISHU_APP_ID \/ FEISHU_APP_SECRET/);
      expect(bad.stdout).toContain('fix: copy App ID and App Secret again');
      expect(bad.stdout).toMatch(/✗ credentials and token; permission: doc tasks: AUTH_FAILED/);
      expect(bad.stdout).toMatch(/✗ Stream mode/);
    } finally {
      await Promise.all([f.close(), d.close()]);
    }
  });
});

describe('taskbot serve', () => {
  it('without credentials starts the sandbox, prints the console address, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [CLI, 'serve'], { cwd, env: { PATH: process.env.PATH ?? '', HTTP_PORT: '0' } });
    // A failed expectation must not leave the sandbox running.
    onTestFinished(() => void (child.exitCode === null && child.kill('SIGKILL')));
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no console address in: ${out}`)), 15_000);
      child.stdout.on('data', () => {
        const m = /console: {2}(http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(t);
          resolve(m[1]!);
        }
      });
    });
    expect(out).toContain('no platform credentials are set');
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('taskbot sandbox');
    // The apps connect in the background: ready within moments (200 with one app up; `ok` with all).
    const ready = await until(
      'ready',
      async () => {
        const res = await fetch(new URL('/readyz', url));
        const body = res.status === 200 ? ((await res.json()) as { ok: boolean }) : undefined;
        return body?.ok ? body : undefined;
      },
      10_000,
    );
    const up = { ok: true, state: 'connected' };
    expect(ready).toEqual({
      ok: true,
      checks: {
        store: { ok: true },
        replicas: { ok: true, count: 1 },
        // The sandbox serves four apps: two Feishu (one a Lark tenant), two DingTalk organisations.
        apps: {
          feishu: { ...up, platform: 'feishu' },
          dingtalk: { ...up, platform: 'dingtalk' },
          lark: { ...up, platform: 'feishu' },
          'dingtalk-bj': { ...up, platform: 'dingtalk' },
        },
        feishu: up,
        dingtalk: up,
      },
    });
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(0);
  });
});

describe('taskbot watch', () => {
  const db = () => `sqlite:${join(mkdtempSync(join(tmpdir(), 'taskbot-watch-')), 'w.db')}`;

  it('posts a live card into the chat and records it in the store for the serving taskbot', async () => {
    feishu.addTask({ id: '424242', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 10_000 });
    const r = await run(['watch', '424242', '--platform', 'feishu', '--chat', 'oc_cli', '--title', 'Archive move', '--notify', 'ou_alice', '--json'], {
      ...feishuNow(),
      DATABASE_URL: db(),
    });
    expect(r.code).toBe(0);
    const posted = JSON.parse(r.stdout) as { cardKey: string; state: string };
    expect(posted).toMatchObject({ cardKey: expect.stringMatching(/^feishu:om_/), state: 'running' });
    const card = feishu.im.messages.get(posted.cardKey.slice('feishu:'.length))!;
    expect(card.chat_id).toBe('oc_cli');
    expect(JSON.stringify(card.card)).toContain('Archive move');
    expect(JSON.stringify(card.card)).toContain('1 waiting to be notified');
  });

  it('says what is wrong: usage (exit 2), an unknown task (exit 1, nothing posted)', async () => {
    const before = feishu.im.inChat('oc_cli2').length;
    expect((await run(['watch', '1', '--platform', 'feishu'], feishuNow())).stderr).toContain('--chat');
    expect((await run(['watch', '1', '--platform', 'feishu'], feishuNow())).code).toBe(2);
    expect((await run(['watch', '1', '--platform', 'feishu', '--chat', 'c', '--kind', 'doc'], feishuNow())).stderr).toContain(
      '--kind: this kind does not exist on this platform',
    );
    const missing = await run(['watch', '404404', '--platform', 'feishu', '--chat', 'oc_cli2'], { ...feishuNow(), DATABASE_URL: db() });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('TASK_NOT_FOUND');
    expect(feishu.im.inChat('oc_cli2')).toHaveLength(before);
    expect((await run(['watch', '1', '--platform', 'feishu', '--chat', 'c', '--url', 'http://127.0.0.1:1'], feishuNow())).stderr).toContain('API_TOKEN');
  });

  it('--url asks a running taskbot through its script API', async () => {
    const { startTestBot } = await import('../helpers/bot.js');
    const token = 'cli-api-token-0123456789';
    const { bot } = await startTestBot({ ...feishuNow(), API_TOKEN: token });
    try {
      feishu.addTask({ id: '515151', kind: 'drive', total: 1, outcome: 'succeeded', queuedSteps: 0, runningSteps: 10_000 });
      const r = await run(['watch', '515151', '--platform', 'feishu', '--chat', 'oc_cli3', '--url', bot.url], { ...feishuNow(), API_TOKEN: token });
      expect(r.stdout).toMatch(/^posted feishu:om_\S+ \(running\) in oc_cli3/);
      expect(r.code).toBe(0);
      const refused = await run(['watch', '515151', '--platform', 'feishu', '--chat', 'oc_cli3', '--url', bot.url], {
        ...feishuNow(),
        API_TOKEN: 'wrong-token-0123456789',
      });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('answered 401');
    } finally {
      await bot.stop();
    }
  });
});

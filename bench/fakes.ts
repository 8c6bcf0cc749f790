import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { request } from 'undici';
import type { TaskScript } from '../src/sandbox/scripted-task.js';

export interface FakesProcess {
  feishu: string;
  dingtalk: string;
  feishuApp: [string, string];
  dingtalkApp: [string, string];
  /** Every app's fake (FAKE_APPS of each platform; the first is the one above). */
  apps: { feishu: { url: string; appId: string; appSecret: string }[]; dingtalk: { url: string; clientId: string; clientSecret: string }[] };
  addTasks(platform: 'feishu' | 'dingtalk', scripts: TaskScript[]): Promise<void>;
  requests(platform: 'feishu' | 'dingtalk', path: RegExp): Promise<number>;
  configure(platform: 'feishu' | 'dingtalk', settings: Record<string, unknown>): Promise<void>;
  stats(platform: 'feishu' | 'dingtalk'): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** Starts the fake platforms in a child process, so their work does not count as taskbot's. */
export async function startFakes(appsPerPlatform = 1): Promise<FakesProcess> {
  const child: ChildProcess = spawn(process.execPath, [new URL('../src/sandbox/fake-process.js', import.meta.url).pathname], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, FAKE_APPS: String(appsPerPlatform) },
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`fake platforms exited with ${code}`)));
  });
  const info = JSON.parse(line) as Pick<FakesProcess, 'feishu' | 'dingtalk' | 'feishuApp' | 'dingtalkApp' | 'apps'>;
  const base = (p: 'feishu' | 'dingtalk') => (p === 'feishu' ? info.feishu : info.dingtalk);
  return {
    ...info,
    async addTasks(platform, scripts) {
      for (let i = 0; i < scripts.length; i += 500) {
        const r = await request(`${base(platform)}/_fake/tasks`, {
          method: 'POST',
          body: JSON.stringify(scripts.slice(i, i + 500)),
          headers: { 'content-type': 'application/json' },
        });
        await r.body.text();
      }
    },
    async requests(platform, path) {
      const r = await request(`${base(platform)}/_fake/stats`);
      const { requests } = (await r.body.json()) as { requests: Record<string, number> };
      return Object.entries(requests)
        .filter(([p]) => path.test(p))
        .reduce((n, [, c]) => n + c, 0);
    },
    async configure(platform, settings) {
      const r = await request(`${base(platform)}/_fake/config`, {
        method: 'POST',
        body: JSON.stringify(settings),
        headers: { 'content-type': 'application/json' },
      });
      await r.body.text();
    },
    async stats(platform) {
      const r = await request(`${base(platform)}/_fake/stats`);
      return (await r.body.json()) as Record<string, unknown>;
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

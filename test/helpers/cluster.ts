import type { ChildProcess } from 'node:child_process';
import { afterEach } from 'vitest';
import { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import { feishuEnv } from './env.js';
import { serve, type Served } from './serve.js';
import { dropFreshStore, freshStoreUrl } from './stores.js';

/**
 * `taskbot serve` processes against one fake Feishu, on a database of their own: what a test of
 * crashes, replicas and clocks starts. Everything it started is killed, closed and dropped after
 * each test.
 */
export function feishuProcesses() {
  const children: ChildProcess[] = [];
  const made: { fake?: FakeFeishu; url?: string } = {};
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
    await made.fake?.close();
    if (made.url) await dropFreshStore(made.url);
    delete made.fake;
    delete made.url;
  });
  return {
    /** The fake Feishu of this test (listening). */
    async fake(): Promise<FakeFeishu> {
      made.fake = new FakeFeishu();
      await made.fake.listen();
      return made.fake;
    },
    /** A fresh PostgreSQL store (a schema of its own) for this test. */
    async postgres(): Promise<string> {
      made.url = await freshStoreUrl('postgres');
      return made.url;
    },
    /** A process serving the fake Feishu with `env`; not waited for. */
    spawn(env: Record<string, string>): Served {
      const p = serve({ ...feishuEnv(made.fake!), ...env });
      children.push(p.child);
      return p;
    },
    /** A process serving the fake Feishu with `env`, once it runs. */
    async start(env: Record<string, string>): Promise<Served> {
      const p = this.spawn(env);
      await p.ready;
      return p;
    },
  };
}

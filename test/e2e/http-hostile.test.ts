import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import type { Bot } from '../../src/app/bot.js';
import { startTestBot, until, type LogSink } from '../helpers/bot.js';
import { signed, webhookEnv } from '../helpers/feishu-webhook.js';
import { postHead, rawHttp } from '../helpers/raw-http.js';
import { serve } from '../helpers/serve.js';

const PATH = '/feishu/webhook/event';

/** A genuine signed delivery of `text` from a person in `chat`; resolves when the bot replied to it. */
async function genuineEventAnswered(fake: FakeFeishu, url: string, chat: string): Promise<void> {
  const e = fake.say(chat, 'help');
  const body = JSON.stringify(e.event);
  const r = await fetch(`${url}${PATH}`, { method: 'POST', body, headers: signed(body) });
  expect(r.status).toBe(200);
  await until('the reply', () => fake.im.inChat(chat).some((m) => m.reply_to === e.messageId));
}

describe('a taskbot process facing hostile HTTP clients', () => {
  let fake: FakeFeishu;
  let child: ChildProcess;
  let url: string;

  beforeAll(async () => {
    fake = new FakeFeishu();
    await fake.listen();
    const s = serve({ ...webhookEnv(fake), DATABASE_URL: 'sqlite::memory:' });
    child = s.child;
    await s.ready;
    url = s.url()!;
    await until('ready', async () => (await fetch(`${url}/readyz`)).status === 200);
  }, 30_000);
  afterAll(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await fake.close();
  });

  it('survives clients that reset the connection halfway through a body', async () => {
    for (let i = 0; i < 20; i++) {
      await rawHttp(url, [postHead(PATH, 5000), '{"schema":"2.0","header":'], { reset: true });
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(child.exitCode).toBeNull();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    await genuineEventAnswered(fake, url, 'oc_after_resets');
  });
});

describe('the HTTP server under hostile clients', () => {
  let fake: FakeFeishu;
  let bot: Bot;
  let sink: LogSink;

  beforeAll(async () => {
    fake = new FakeFeishu();
    await fake.listen();
    ({ bot, sink } = await startTestBot(webhookEnv(fake), undefined, {
      http: { headersTimeoutMs: 400, requestTimeoutMs: 800, checkEveryMs: 100 },
      // A handler with a bug in it, to show what the error boundary does.
      routes: (http) =>
        http.route('POST', '/test/buggy', () => {
          throw new TypeError('a bug');
        }),
    }));
  });
  afterAll(async () => {
    await bot.stop();
    await fake.close();
  });

  const healthy = async () => (await fetch(`${bot.url}/healthz`)).status === 200;

  it('answers a handler that throws with 500 and a log line, and goes on', async () => {
    const r = await fetch(`${bot.url}/test/buggy`, { method: 'POST', body: '{}' });
    expect(r.status).toBe(500);
    expect(await r.json()).toEqual({ error: 'internal error' });
    expect(sink.text).toContain('HTTP handler failed');
    expect(await healthy()).toBe(true);
  });

  it('cuts off a body that stalls, with 408', async () => {
    const r = await rawHttp(bot.url, [postHead(PATH, 100), '{"a":'], { waitMs: 3000 });
    expect(r.closed).toBe(true);
    expect(r.status).toBe(408);
  });

  it('cuts off headers that never end', async () => {
    const r = await rawHttp(bot.url, ['POST /feishu/webhook/event HTTP/1.1\r\nhost: x\r\n'], { waitMs: 3000 });
    expect(r.closed).toBe(true);
  });

  it('refuses a declared body over 1 MB with 413 before reading it', async () => {
    const r = await rawHttp(bot.url, [postHead(PATH, 2 * 1024 * 1024)], { waitMs: 2000 });
    expect(r.status).toBe(413);
    expect(r.closed).toBe(true);
  });

  it('stops reading a chunked body once it passes 1 MB, with 413', async () => {
    const head = `POST ${PATH} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n`;
    const chunk = Buffer.alloc(256 * 1024, 'a');
    const parts: (string | Buffer)[] = [head];
    for (let i = 0; i < 6; i++) parts.push(`${chunk.length.toString(16)}\r\n`, chunk, '\r\n');
    const r = await rawHttp(bot.url, parts, { waitMs: 3000 });
    expect(r.status).toBe(413);
  });

  it('answers garbage with 400 and a wrong content type with 415', async () => {
    const garbage = await rawHttp(bot.url, ['\x00\x01GARBAGE \xff\r\n\r\n'], { waitMs: 2000 });
    expect(garbage.status).toBe(400);
    const form = await fetch(`${bot.url}${PATH}`, { method: 'POST', body: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.status).toBe(415);
  });

  it('keeps answering while many slow clients hang on, and closes them', async () => {
    const slow = Array.from({ length: 150 }, (_, i) => rawHttp(bot.url, [`POST ${PATH} HTTP/1.1\r\n`, `host: slow${i}\r\n`], { gapMs: 200, waitMs: 4000 }));
    await new Promise((r) => setTimeout(r, 150));
    const started = Date.now();
    expect(await healthy()).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
    const results = await Promise.all(slow);
    expect(results.every((r) => r.closed)).toBe(true);
  });

  it('property: random bytes and truncated genuine requests never take the server down', async () => {
    const e = fake.say('oc_prop', 'help');
    const body = JSON.stringify(e.event);
    const genuine = Buffer.from(postHead(PATH, Buffer.byteLength(body), signed(body)) + body);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ minLength: 1, maxLength: 600 }).map((a) => Buffer.from(a)),
          fc.nat({ max: genuine.length - 1 }).map((n) => genuine.subarray(0, n)),
        ),
        fc.boolean(),
        async (bytes, reset) => {
          await rawHttp(bot.url, [bytes], { reset, waitMs: 100 });
        },
      ),
      { numRuns: 120 },
    );
    expect(await healthy()).toBe(true);
    await genuineEventAnswered(fake, bot.url, 'oc_after_property');
  }, 60_000);
});

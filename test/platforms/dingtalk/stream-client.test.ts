import { TOPIC_ROBOT } from 'dingtalk-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeDingtalk } from '../../../src/sandbox/fake-dingtalk.js';
import { StreamClient } from '../../../src/platforms/dingtalk/stream-client.js';
import { createLogger } from '../../../src/log.js';
import { LogSink, until } from '../../helpers/bot.js';

describe('StreamClient (the real DWClient, subclassed) against the fake Stream gateway', () => {
  let fake: FakeDingtalk;
  let client: StreamClient;
  let sink: LogSink;

  beforeEach(async () => {
    fake = new FakeDingtalk();
    await fake.listen();
    sink = new LogSink();
    client = new StreamClient({
      clientId: fake.clientId,
      clientSecret: fake.clientSecret,
      apiBase: fake.baseUrl,
      logger: createLogger('debug', sink),
      backoffBaseMs: 100,
      backoffMaxMs: 800,
      idleMs: 1500,
    });
  });
  afterEach(async () => {
    client.stop();
    await fake.close();
  });

  it('opens the gateway at the configured base with its own subscriptions', async () => {
    const other = new StreamClient({ clientId: 'x', clientSecret: 'y', apiBase: fake.baseUrl });
    other.listen('/other/topic', () => undefined);
    client.listen(TOPIC_ROBOT, () => undefined);
    await client.start();
    expect(fake.stream.openCalls).toBe(1);
    expect(fake.stream.subscriptions).toEqual([{ type: 'CALLBACK', topic: TOPIC_ROBOT }]);
    expect(client.connected).toBe(true);
  });

  it('refuses to start with bad credentials', async () => {
    const bad = new StreamClient({ clientId: fake.clientId, clientSecret: 'nope', apiBase: fake.baseUrl });
    await expect(bad.start()).rejects.toMatchObject({ code: 'AUTH_FAILED' });
  });

  it('echoes pings and survives a throwing and a rejecting listener and a malformed frame', async () => {
    let calls = 0;
    client.listen(TOPIC_ROBOT, (msg) => {
      calls++;
      client.socketCallBackResponse(msg.headers.messageId, {});
      if (calls === 1) throw new Error('boom');
      if (calls === 2) return Promise.reject(new Error('async boom'));
    });
    await client.start();
    expect((await fake.stream.ping()).code).toBe(200);
    await fake.stream.push(TOPIC_ROBOT, { n: 1 });
    await fake.stream.push(TOPIC_ROBOT, { n: 2 });
    fake.stream.sendRaw('{not json');
    const third = await fake.stream.push(TOPIC_ROBOT, { n: 3 });
    expect(third.code).toBe(200);
    expect(calls).toBe(3);
    expect(sink.text).toContain('stream listener threw');
    expect(sink.text).toContain('stream listener failed');
    expect(sink.text).toContain('malformed Stream frame ignored');
    expect(fake.stream.connected).toBe(1);
  });

  it('acknowledges a callback on a topic nobody listens to', async () => {
    await client.start();
    const ack = await fake.stream.push('/v1.0/unknown/topic', { x: 1 });
    expect(ack).toMatchObject({ code: 200, data: { response: {} } });
  });

  it('after a drop, a SYSTEM disconnect and three refused opens, reconnects with backoff and no storm', async () => {
    client.listen(TOPIC_ROBOT, (m) => client.socketCallBackResponse(m.headers.messageId, {}));
    await client.start();
    fake.stream.refuseNext = 3;
    const t0 = Date.now();
    fake.stream.dropAll();
    await until('reconnected', () => fake.stream.connected === 1 && fake.stream.openCalls === 5, 10_000);
    const elapsed = Date.now() - t0;
    // 4 waits of base 100 ms doubling (with jitter ≥ half): at least 50+100+200+400 = 750 ms.
    expect(elapsed).toBeGreaterThanOrEqual(700);
    expect(fake.stream.openCalls).toBe(5);

    fake.stream.disconnect();
    await until('reconnected after disconnect', () => fake.stream.openCalls === 6 && fake.stream.connected === 1, 10_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(fake.stream.openCalls).toBe(6);
    expect((await fake.stream.push(TOPIC_ROBOT, { ok: true })).code).toBe(200);
  });

  it('replaces a socket that goes quiet (idle watchdog)', async () => {
    await client.start();
    // Pausing the server side silences the socket: no frames, no pongs.
    const [server] = [...fake.stream.sockets];
    (server as unknown as { _socket: { pause(): void } })._socket.pause();
    await until('replaced', () => fake.stream.openCalls === 2 && client.connected, 10_000);
    expect(sink.text).toContain('no traffic; replacing the socket');
  });

  it('stop() ends every reconnect attempt', async () => {
    await client.start();
    fake.stream.refuseNext = 100;
    fake.stream.dropAll();
    await new Promise((r) => setTimeout(r, 150));
    client.stop();
    const calls = fake.stream.openCalls;
    await new Promise((r) => setTimeout(r, 1200));
    expect(fake.stream.openCalls).toBe(calls);
  });
});

import { lark, type LarkSdk } from './sdk.js';
import type { Logger } from 'pino';
import { TaskbotError } from '../../domain/errors.js';
import { undiciHttpInstance } from './http-instance.js';
import { proxyRefusal, webSocketAgent } from '../../http/proxy.js';
import { sdkLogger } from './sdk-logger.js';

export interface FeishuWsOptions {
  appId: string;
  appSecret: string;
  domain: string;
  dispatcher: LarkSdk.EventDispatcher;
  logger?: Logger;
  /** How long start() waits for the first connection. */
  readyTimeoutMs?: number;
  /** The SDK gave up on a connection that was up (its own reconnects exhausted or refused). */
  onLost?: (e: Error) => void;
}

/**
 * The long connection (the default event mode): the SDK's WSClient, its state visible to /readyz.
 * The SDK reconnects a dropped connection itself; a first connection that does not come up in
 * time is closed and reported, so the caller can try again on its own backoff (the SDK would
 * wait two minutes between attempts).
 */
export class FeishuWsReceiver {
  private client?: LarkSdk.WSClient;
  private abandon?: (e: Error) => void;

  constructor(private readonly o: FeishuWsOptions) {}

  /** Resolves once connected; rejects when the SDK reports a failure or the first connection is late. */
  start(): Promise<void> {
    const log = this.o.logger?.child({ component: 'feishu-ws' });
    return new Promise((resolve, reject) => {
      let ready = false;
      const fail = (e: Error) => {
        clearTimeout(timer);
        this.abandon = undefined;
        this.client?.close({ force: true });
        reject(e);
      };
      this.abandon = fail;
      const timeoutMs = this.o.readyTimeoutMs ?? 20_000;
      const timer = setTimeout(
        () =>
          fail(
            new TaskbotError(
              'UPSTREAM_UNAVAILABLE',
              `Feishu long connection: not connected within ${timeoutMs / 1000} s (check FEISHU_DOMAIN, the network, and that the app subscribes to events over the long connection)`,
            ),
          ),
        timeoutMs,
      );
      this.client = new lark.WSClient({
        appId: this.o.appId,
        appSecret: this.o.appSecret,
        domain: this.o.domain,
        httpInstance: undiciHttpInstance(15_000),
        agent: webSocketAgent(),
        logger: sdkLogger(this.o.logger),
        loggerLevel: lark.LoggerLevel.warn,
        autoReconnect: true,
        onReady: () => {
          clearTimeout(timer);
          ready = true;
          this.abandon = undefined;
          log?.info('Feishu long connection ready');
          resolve();
        },
        onError: (e: Error) => {
          log?.error({ err: e.message }, 'Feishu long connection failed');
          if (!ready)
            return fail(
              proxyRefusal(e, this.o.domain, 'Feishu long connection') ?? new TaskbotError('UPSTREAM_UNAVAILABLE', `Feishu long connection: ${e.message}`),
            );
          this.o.onLost?.(e);
        },
        onReconnecting: () => log?.warn('Feishu long connection lost; reconnecting'),
        onReconnected: () => log?.info('Feishu long connection restored'),
      } as ConstructorParameters<typeof lark.WSClient>[0]);
      void this.client.start({ eventDispatcher: this.o.dispatcher });
    });
  }

  get connected(): boolean {
    return this.client?.getConnectionStatus().state === 'connected';
  }

  stop(): void {
    this.abandon?.(new TaskbotError('UPSTREAM_UNAVAILABLE', 'Feishu long connection: stopped'));
    this.client?.close({ force: true });
  }
}

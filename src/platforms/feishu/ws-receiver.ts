import * as lark from '@larksuiteoapi/node-sdk';
import type { Logger } from 'pino';
import { undiciHttpInstance } from './http-instance.js';
import { sdkLogger } from './sdk-logger.js';

export interface FeishuWsOptions {
  appId: string;
  appSecret: string;
  domain: string;
  dispatcher: lark.EventDispatcher;
  logger?: Logger;
  /** How long start() waits for the first connection. */
  readyTimeoutMs?: number;
}

/** The long connection (the default event mode): the SDK's WSClient, its state visible to /readyz. */
export class FeishuWsReceiver {
  private client?: lark.WSClient;

  constructor(private readonly o: FeishuWsOptions) {}

  /** Resolves once connected; rejects on a non-recoverable error (bad credentials) or the timeout. */
  start(): Promise<void> {
    const log = this.o.logger?.child({ component: 'feishu-ws' });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('Feishu long connection: not connected in time (check FEISHU_DOMAIN and the network)')), this.o.readyTimeoutMs ?? 30_000);
      this.client = new lark.WSClient({
        appId: this.o.appId,
        appSecret: this.o.appSecret,
        domain: this.o.domain,
        httpInstance: undiciHttpInstance(15_000),
        logger: sdkLogger(this.o.logger),
        loggerLevel: lark.LoggerLevel.warn,
        autoReconnect: true,
        onReady: () => {
          clearTimeout(timer);
          log?.info('Feishu long connection ready');
          resolve();
        },
        onError: (e: Error) => {
          clearTimeout(timer);
          log?.error({ err: e.message }, 'Feishu long connection failed');
          reject(e);
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
    this.client?.close({ force: true });
  }
}

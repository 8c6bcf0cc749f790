import type { TaskbotError } from '../domain/errors.js';
import type { Platform } from '../domain/task.js';

/** How an app's event connection is doing, for /readyz and metrics. */
export interface PlatformStatus {
  ok: boolean;
  /** failed: its credentials or configuration were refused; it waits for the operator, the other apps go on. */
  state: 'connecting' | 'connected' | 'reconnecting' | 'failed';
  /** The last failure while not connected, as an operator should read it. */
  error?: string;
}

/** An app as the bot sees it: started in the background, never blocking the rest. */
export interface PlatformRuntime {
  app: string;
  platform: Platform;
  status(): PlatformStatus;
  stop(): void;
}

/** Told when an app cannot work without the operator (bad credentials): it is failed; the bot stops when every app is. */
export type OnFatal = (err: TaskbotError) => void;

/** Only refused credentials and broken configuration are worth stopping for; the rest is retried. */
export function isFatal(err: TaskbotError): boolean {
  return err.code === 'AUTH_FAILED' || err.code === 'CONFIG_INVALID';
}

/** Backoff while a platform cannot be reached: 1 s growing to one minute. */
export const RECONNECT_POLICY = { baseDelayMs: 1000, maxDelayMs: 60_000 };

/**
 * What the core reports as it works, for metrics. The core calls these; the app wires them to
 * Prometheus (src/metrics). Each is a count of one thing that happened.
 */
/** What a card write was: a card sent or updated, a digest, a mention, a file. */
export type CardWriteOp = 'send' | 'update' | 'digest' | 'mention' | 'file';

/** Which app (and its platform) a count is of: metrics are labelled with both (DESIGN §8). */
export interface AppLabel {
  app: string;
  platform: string;
}

export interface Telemetry {
  /** An inbound event to an app (message, card callback, unknown). */
  event(app: AppLabel, type: string): void;
  /** A command answered: its name and how it went (`ok`, `error`, `denied`, `busy`, `failed`). */
  command(name: string, outcome: string): void;
  /** One upstream call attempt: the API, `ok` or the error code, and whether it was a retry. */
  upstreamCall(app: AppLabel, api: string, outcome: string, retried: boolean): void;
  /** A card written to a chat: `send`, `update` or `digest`, and `ok` or the error code. */
  cardWrite(app: AppLabel, op: CardWriteOp, outcome: string): void;
  /** A call held back by one of our own rate limiters before it went out. */
  rateLimitWait(app: AppLabel, limiter: string): void;
  /** A scheduled digest run: `sent` or `failed`. */
  digestRun(outcome: string): void;
}

export const noTelemetry: Telemetry = {
  event: () => undefined,
  command: () => undefined,
  upstreamCall: () => undefined,
  cardWrite: () => undefined,
  rateLimitWait: () => undefined,
  digestRun: () => undefined,
};

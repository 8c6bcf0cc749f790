/**
 * Typed errors with a stable `code`: the chat message, the CLI and the logs all key on it.
 * `retryable` tells the retry layer and the watch engine whether trying again can help.
 */

export const ERROR_CODES = [
  'TASK_NOT_FOUND',
  'INVALID_TASK_ID',
  'INVALID_ARGUMENT',
  'PERMISSION_DENIED',
  'RATE_LIMITED',
  'QUOTA_EXCEEDED',
  'AUTH_FAILED',
  'UPSTREAM_UNAVAILABLE',
  'UPSTREAM_TIMEOUT',
  'BAD_UPSTREAM_RESPONSE',
  'UPSTREAM_REJECTED',
  'NOT_CONFIGURED',
  'CONFIG_INVALID',
  'CARD_GONE',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

const RETRYABLE: ReadonlySet<ErrorCode> = new Set([
  'RATE_LIMITED',
  'UPSTREAM_UNAVAILABLE',
  'UPSTREAM_TIMEOUT',
]);

export interface ErrorDetails {
  /** Scopes the app lacks (PERMISSION_DENIED). */
  scopes?: string[];
  /** Which platform and endpoint answered. */
  platform?: string;
  endpoint?: string;
  httpStatus?: number;
  /** The upstream's own code and message, kept verbatim for the logs. */
  upstreamCode?: string | number;
  upstreamMessage?: string;
  /** How long the upstream asked us to wait (RATE_LIMITED). */
  retryAfterMs?: number;
  taskId?: string;
  /** Set when an invalid-token answer should make the caller evict its token and retry once. */
  tokenInvalid?: boolean;
}

export class TaskbotError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TaskbotError';
    this.code = code;
    this.details = details;
  }

  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }

  /** A plain object for pino: code, message and details, never a stack of upstream internals. */
  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.details };
  }
}

export function isTaskbotError(e: unknown, code?: ErrorCode): e is TaskbotError {
  return e instanceof TaskbotError && (code === undefined || e.code === code);
}

/** Anything thrown becomes a TaskbotError; unknown throwables are an upstream fault, not a crash. */
export function asTaskbotError(e: unknown): TaskbotError {
  if (e instanceof TaskbotError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new TaskbotError('UPSTREAM_UNAVAILABLE', message, {}, { cause: e });
}

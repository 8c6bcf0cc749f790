import { randomBytes } from 'node:crypto';

/**
 * Typed errors with a stable `code`: the chat message, the CLI and the logs all key on it.
 * `persistence` tells the retry layer and the watch engine whether trying again can help.
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
  'PROXY_REFUSED',
  'NOT_CONFIGURED',
  'CONFIG_INVALID',
  'STORE_UNUSABLE',
  'CARD_GONE',
  'CARD_REJECTED',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * Whether trying again can help: `transient` (the platform or we had a passing fault: retry with
 * backoff), `rate-limit` (retry after the wait the platform asks for) or `permanent` (the same call
 * will get the same answer: never spend another call on it). The one table every caller uses.
 */
export type Persistence = 'permanent' | 'transient' | 'rate-limit';

const PERSISTENCE: Readonly<Record<ErrorCode, Persistence>> = {
  TASK_NOT_FOUND: 'permanent',
  INVALID_TASK_ID: 'permanent',
  INVALID_ARGUMENT: 'permanent',
  PERMISSION_DENIED: 'permanent',
  RATE_LIMITED: 'rate-limit',
  QUOTA_EXCEEDED: 'permanent',
  AUTH_FAILED: 'permanent',
  UPSTREAM_UNAVAILABLE: 'transient',
  UPSTREAM_TIMEOUT: 'transient',
  BAD_UPSTREAM_RESPONSE: 'permanent',
  UPSTREAM_REJECTED: 'permanent',
  PROXY_REFUSED: 'permanent',
  NOT_CONFIGURED: 'permanent',
  CONFIG_INVALID: 'permanent',
  STORE_UNUSABLE: 'permanent',
  CARD_GONE: 'permanent',
  CARD_REJECTED: 'permanent',
  INTERNAL: 'transient',
};

export function persistenceOf(code: ErrorCode): Persistence {
  return PERSISTENCE[code];
}

/**
 * Permanent answers that only the admin can change (a scope, an authorisation, a quota, a
 * setting): work that hits one waits, tried again rarely, and goes on by itself once it is fixed.
 */
const NEEDS_ADMIN: ReadonlySet<ErrorCode> = new Set(['PERMISSION_DENIED', 'AUTH_FAILED', 'QUOTA_EXCEEDED', 'NOT_CONFIGURED', 'PROXY_REFUSED']);

export function needsAdmin(err: TaskbotError): boolean {
  return NEEDS_ADMIN.has(err.code);
}

/** What the admin must fix, as a card keeps it and doctor shows it: the code, and the scopes when they are known. */
export function adminProblem(err: TaskbotError): string {
  return err.details.scopes?.length ? `${err.code}: ${err.details.scopes.join(' | ')}` : err.code;
}

export interface ErrorDetails {
  /** Scopes the app lacks (PERMISSION_DENIED). */
  scopes?: string[];
  /** Which app, platform and endpoint answered. */
  app?: string;
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
  /** INTERNAL: a short id that the apology shown to people and the log line share. */
  errorId?: string;
  /** The request may have reached the platform and been acted on (no answer in time, the connection cut once sent). */
  ambiguous?: boolean;
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

  get persistence(): Persistence {
    return persistenceOf(this.code);
  }

  get retryable(): boolean {
    return this.persistence !== 'permanent';
  }

  /** A plain object for pino: code, message and details; the stack only for our own faults (INTERNAL). */
  toJSON(): Record<string, unknown> {
    const stack = this.code === 'INTERNAL' && this.cause instanceof Error ? { stack: this.cause.stack } : {};
    return { code: this.code, message: this.message, ...this.details, ...stack };
  }
}

export function isTaskbotError(e: unknown, code?: ErrorCode): e is TaskbotError {
  return e instanceof TaskbotError && (code === undefined || e.code === code);
}

/**
 * Anything thrown becomes a TaskbotError. What does not come from an upstream (a bug, a store
 * error) is INTERNAL: retried with backoff, logged with its stack (the cause), and shown to people
 * only as an apology with an error id.
 */
export function asTaskbotError(e: unknown): TaskbotError {
  if (e instanceof TaskbotError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new TaskbotError('INTERNAL', message, { errorId: randomBytes(4).toString('hex') }, { cause: e });
}

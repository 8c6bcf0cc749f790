import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { CommandDeps } from '../commands/deps.js';
import { asTaskbotError, type ErrorCode } from '../domain/errors.js';
import { bearerMatches } from '../http/auth.js';
import type { HttpAnswer, HttpInput, HttpServer } from '../http/server.js';
import { abandonRequests, answerRequest, claimRequest, releaseRequest, renewRequests } from '../store/api-requests.js';
import { LeaseKeeper } from '../domain/lease-keeper.js';
import type { Store } from '../store/store.js';
import { describeWatch, postWatch, stopWatch, WatchRequest } from './watches.js';
import { openApiDocument } from './description.js';

/** How a typed error answers a script: the one table of HTTP statuses for our codes. */
const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  TASK_NOT_FOUND: 404,
  INVALID_TASK_ID: 400,
  INVALID_ARGUMENT: 400,
  PERMISSION_DENIED: 403,
  QUOTA_EXCEEDED: 403,
  NOT_CONFIGURED: 422,
  RATE_LIMITED: 429,
  AUTH_FAILED: 502,
  BAD_UPSTREAM_RESPONSE: 502,
  UPSTREAM_REJECTED: 502,
  PROXY_REFUSED: 502,
  CARD_GONE: 502,
  CARD_REJECTED: 502,
  UPSTREAM_UNAVAILABLE: 503,
  UPSTREAM_TIMEOUT: 504,
  CONFIG_INVALID: 500,
  STORE_UNUSABLE: 500,
  INTERNAL: 500,
};

export interface ApiDeps {
  token: string;
  store: Store;
  commands: CommandDeps;
  /** This replica, holding the keys of the requests it works. */
  owner: string;
  /** Where scripts reach this server (the description's `servers`), known once the server listens. */
  publicUrl: () => string;
  logger?: Logger;
}

/** A key's lease while its request is worked, renewed until answered; a cut-off request's key is retryable after it. */
export const KEY_LEASE_MS = 15_000;

const PREFIX = '/api/v1/watches';

/**
 * The script API (README, "For script authors"): post a live card, read it, stop it; bearer token compared in
 * constant time. stop() lets go of the keys of requests still being worked (the HTTP server has
 * stopped taking requests): a retry takes them at once.
 */
export function apiRoutes(http: HttpServer, d: ApiDeps): { stop(): Promise<void> } {
  const keys = new LeaseKeeper({
    leaseMs: KEY_LEASE_MS,
    clock: d.commands.clock,
    renew: async (k, until) => {
      await renewRequests(d.store, k, d.owner, until);
      return undefined; // which keys it kept is not told: all are taken as kept
    },
    what: 'script requests being worked',
    ...(d.logger && { logger: d.logger }),
  });
  keys.start();
  const guarded =
    (h: (req: HttpInput) => Promise<HttpAnswer>) =>
    async (req: HttpInput): Promise<HttpAnswer> => {
      if (!bearerMatches(req.headers.authorization, d.token))
        return { status: 401, body: problem('UNAUTHORIZED', 'Authorization: Bearer <API_TOKEN> is required'), headers: { 'www-authenticate': 'Bearer' } };
      try {
        return await h(req);
      } catch (e) {
        return errorAnswer(e);
      }
    };
  http.route(
    'POST',
    PREFIX,
    guarded((req) => create(req, d, keys)),
    { json: true },
  );
  http.route(
    'GET',
    `${PREFIX}/*`,
    guarded(async (req) => {
      const w = await describeWatch(d.commands, keyOf(req));
      if (!w) return { status: 404, body: problem('CARD_NOT_FOUND', 'no card with this key') };
      if ('refused' in w) return { status: 403, body: problem('PERMISSION_DENIED', String(w.refused)) };
      return { status: 200, body: w };
    }),
  );
  http.route(
    'DELETE',
    `${PREFIX}/*`,
    guarded(async (req) => {
      const r = await stopWatch(d.commands, keyOf(req));
      if (!r) return { status: 404, body: problem('CARD_NOT_FOUND', 'no card with this key') };
      if ('refused' in r) return { status: 403, body: problem('PERMISSION_DENIED', r.refused) };
      return { status: 200, body: r };
    }),
  );
  http.route('GET', '/api/v1/openapi.json', async () => ({ status: 200, body: openApiDocument(d.publicUrl()) }));
  return { stop: () => abandonRequests(d.store, keys.stop(), d.owner) };
}

/** POST: validate, then (once per Idempotency-Key) fetch the task, post the card, watch it. */
async function create(req: HttpInput, d: ApiDeps, keys: LeaseKeeper): Promise<HttpAnswer> {
  let json: unknown;
  try {
    json = JSON.parse(req.rawBody.toString('utf8'));
  } catch {
    return { status: 400, body: problem('INVALID_JSON', 'the body is not JSON') };
  }
  const parsed = WatchRequest.safeParse(json);
  if (!parsed.success) return { status: 400, body: { error: { code: 'INVALID_REQUEST', message: 'the request does not fit', issues: issues(parsed.error) } } };
  const key = header(req, 'idempotency-key');
  if (key !== undefined && (key.length === 0 || key.length > 200))
    return { status: 400, body: problem('INVALID_REQUEST', 'Idempotency-Key must be 1 to 200 characters') };
  if (key === undefined) return created(await postWatch(d.commands, parsed.data));
  const claim = await claimRequest(
    d.store,
    key,
    createHash('sha256').update(JSON.stringify(parsed.data)).digest('hex'),
    d.commands.clock.now(),
    d.owner,
    keys.until(),
  );
  if (claim.kind === 'answered') return { status: claim.status, body: claim.body, headers: { 'idempotent-replayed': 'true' } };
  if (claim.kind === 'working')
    return { status: 409, body: problem('IN_PROGRESS', 'a request with this Idempotency-Key is still being worked; try again shortly') };
  if (claim.kind === 'conflict') return { status: 422, body: problem('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used for a different request') };
  keys.hold(key);
  try {
    // The platform takes a retry's post as the same message (Feishu uuid, DingTalk outTrackId, both from the key).
    const answer = created(await postWatch(d.commands, parsed.data, key));
    await answerRequest(d.store, key, answer.status, answer.body);
    return answer;
  } catch (e) {
    const err = asTaskbotError(e);
    // A permanent answer is the answer for this key; a passing fault may go better next time.
    if (err.persistence === 'permanent') await answerRequest(d.store, key, HTTP_STATUS[err.code], errorBody(err));
    else await releaseRequest(d.store, key, d.owner);
    throw err;
  } finally {
    keys.drop(key);
  }
}

const created = (w: { cardKey: string; state: string }) => ({ status: 201, body: w, headers: { location: `${PREFIX}/${encodeURIComponent(w.cardKey)}` } });

function errorAnswer(e: unknown): HttpAnswer {
  const err = asTaskbotError(e);
  const retry = err.details.retryAfterMs;
  return { status: HTTP_STATUS[err.code], body: errorBody(err), ...(retry !== undefined && { headers: { 'retry-after': String(Math.ceil(retry / 1000)) } }) };
}

function errorBody(err: ReturnType<typeof asTaskbotError>) {
  const message = err.code === 'INTERNAL' ? `internal error (error id ${err.details.errorId ?? '—'})` : err.message;
  return { error: { code: err.code, message, ...(err.details.scopes?.length && { scopes: err.details.scopes }) } };
}

const problem = (code: string, message: string) => ({ error: { code, message } });

function issues(e: z.ZodError): { path: string; message: string }[] {
  return e.issues.map((i) => ({
    path: i.path.join('.') || '(body)',
    message: i.code === 'unrecognized_keys' ? `unknown field(s): ${i.keys.join(', ')}` : i.message,
  }));
}

function keyOf(req: HttpInput): string {
  try {
    return decodeURIComponent(req.path.slice(PREFIX.length + 1));
  } catch {
    return '';
  }
}

function header(req: HttpInput, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

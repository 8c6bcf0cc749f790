import { parseArgs } from 'node:util';
import { buildMessengers } from '../app/messengers.js';
import { appSettings, buildServices } from '../app/services.js';
import { postWatch, WatchRequest, type PostedWatch } from '../api/watches.js';
import { systemClock } from '../domain/clock.js';
import { asTaskbotError } from '../domain/errors.js';
import { noTelemetry } from '../domain/telemetry.js';
import { chatPrefs } from '../store/chat-settings.js';
import { openStore } from '../store/open.js';
import { WatchEngine } from '../watch/engine.js';
import { EXIT, UsageError, type CliContext } from './cli-context.js';
import { formatError } from './format.js';

export const WATCH_USAGE =
  'taskbot watch <taskId> --platform feishu|dingtalk [--app ID] --chat CHAT_ID [--kind K] [--union-id U] [--notify USER]... [--title T] [--url URL] [--idempotency-key KEY] [--json]';

/**
 * `taskbot watch`: posts a live card of a task into a chat (what POST /api/v1/watches does). By
 * default it works directly on the configured platforms and store, and the taskbot serving that
 * store keeps the card up to date; with --url it asks a running taskbot's API (API_TOKEN).
 */
export async function runWatch(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      platform: { type: 'string' },
      app: { type: 'string' },
      chat: { type: 'string' },
      kind: { type: 'string' },
      'union-id': { type: 'string' },
      notify: { type: 'string', multiple: true },
      title: { type: 'string' },
      url: { type: 'string' },
      'idempotency-key': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1) throw new UsageError(`give exactly one task id\nusage: ${WATCH_USAGE}`);
  const parsed = WatchRequest.safeParse({
    platform: values.platform,
    ...(values.app !== undefined && { app: values.app }),
    chatId: values.chat,
    taskId: positionals[0],
    ...(values.kind !== undefined && { kind: values.kind }),
    ...(values['union-id'] !== undefined && { unionId: values['union-id'] }),
    ...(values.notify && { notify: values.notify }),
    ...(values.title !== undefined && { title: values.title }),
  });
  if (!parsed.success) {
    const flag: Record<string, string> = { chatId: '--chat', taskId: 'the task id', unionId: '--union-id' };
    const lines = parsed.error.issues.map((i) => `${flag[String(i.path[0])] ?? `--${String(i.path[0])}`}: ${i.message}`);
    throw new UsageError(`${lines.join('\n')}\nusage: ${WATCH_USAGE}`);
  }
  const key = values['idempotency-key'];
  const { io } = ctx;
  let posted: PostedWatch;
  try {
    posted = values.url ? await viaApi(ctx, values.url, parsed.data, key) : await direct(ctx, parsed.data, key);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    if (e instanceof ApiFailure) io.err(e.message);
    else for (const l of formatError(asTaskbotError(e), ctx.config.locale)) io.err(l);
    return EXIT.failed;
  }
  io.out(values.json ? JSON.stringify(posted) : `posted ${posted.cardKey} (${posted.state}) in ${parsed.data.chatId} (app ${posted.app})`);
  return EXIT.ok;
}

async function direct(ctx: CliContext, req: WatchRequest, key?: string): Promise<PostedWatch> {
  const clock = systemClock;
  const services = buildServices(ctx.config, { logger: ctx.logger });
  const messengers = buildMessengers(services, { clock, logger: ctx.logger, telemetry: noTelemetry });
  const store = await openStore(ctx.config.databaseUrl);
  try {
    // Not started: it only records the card; the taskbot serving this store updates it.
    const engine = new WatchEngine({ store, tasks: services.registry, messengers, timeZone: ctx.config.digestTimeZone, clock });
    const deps = {
      apps: ctx.config.apps.map((a) => ({ id: a.id, platform: a.platform })),
      registry: services.registry,
      watch: engine.cards,
      messengers,
      settings: appSettings(ctx.config),
      chats: chatPrefs(store, () => clock.now()),
    };
    return await postWatch(deps, req, key);
  } finally {
    await store.close();
  }
}

async function viaApi(ctx: CliContext, url: string, req: WatchRequest, key?: string): Promise<PostedWatch> {
  const token = ctx.config.apiToken;
  if (!token) throw new UsageError("--url needs API_TOKEN (the running taskbot's) in the environment");
  const res = await fetch(`${url.replace(/\/+$/, '')}/api/v1/watches`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(key && { 'idempotency-key': key }) },
    body: JSON.stringify(req),
  }).catch((e: unknown) => {
    throw new ApiFailure(`cannot reach ${url}: ${e instanceof Error ? e.message : String(e)}`);
  });
  const body = (await res.json().catch(() => ({}))) as {
    app?: string;
    cardKey?: string;
    state?: PostedWatch['state'];
    error?: { code?: string; message?: string; scopes?: string[] };
  };
  if (res.status === 201 && body.app && body.cardKey && body.state) return { app: body.app, cardKey: body.cardKey, state: body.state };
  throw new ApiFailure(
    `${url} answered ${res.status}: ${body.error?.code ?? ''} ${body.error?.message ?? ''}${body.error?.scopes ? ` (grant ${body.error.scopes.join(' or ')})` : ''}`.trim(),
  );
}

/** The running taskbot said no (or could not be reached): its answer, for people. */
class ApiFailure extends Error {}

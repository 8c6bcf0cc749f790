import type { Logger } from 'pino';
import { handleCommand } from '../commands/router.js';
import type { CommandDeps, InboundCommand } from '../commands/context.js';
import type { Clock } from '../domain/clock.js';
import { asTaskbotError } from '../domain/errors.js';
import type { Store } from '../store/store.js';

/** Platforms redeliver for hours at most; a key is remembered for three days. */
export const DEDUPE_TTL_MS = 3 * 86_400_000;

export interface InboundDeps {
  store: Store;
  clock: Clock;
  commands: CommandDeps;
  logger?: Logger;
}

/**
 * Claims every id of an inbound delivery in the store (atomic insert-if-absent) before any work;
 * true when this process owns it, false for a duplicate some process has seen already.
 */
export async function claimDelivery(store: Store, keys: string[], now: number): Promise<boolean> {
  for (const k of keys) if (!(await store.claimOnce(k, now, DEDUPE_TTL_MS))) return false;
  return true;
}

/** Runs one command delivery: dedupe, then answer. Failures are logged with their code; nothing escapes. */
export async function runDelivery(keys: string[], build: () => InboundCommand | undefined, deps: InboundDeps): Promise<void> {
  if (!(await claimDelivery(deps.store, keys, deps.clock.now()))) {
    deps.logger?.info({ keys }, 'duplicate delivery ignored');
    return;
  }
  const cmd = build();
  if (!cmd) return;
  try {
    await handleCommand(cmd, deps.commands);
  } catch (e) {
    const err = asTaskbotError(e);
    deps.logger?.error({ code: err.code, err: err.toJSON(), platform: cmd.platform, chat: cmd.chatId }, 'command failed');
  }
}

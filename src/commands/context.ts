import type { Logger } from 'pino';
import type { CardModel } from '../cards/model.js';
import type { ChatRef, Messenger, ReplyContext } from '../domain/chat.js';
import type { Clock } from '../domain/clock.js';
import type { Telemetry } from '../domain/telemetry.js';
import type { Platform, TaskSnapshot } from '../domain/task.js';
import type { DigestScheduler, ReportSource } from '../digest/scheduler.js';
import type { Locale } from '../i18n/messages.js';
import type { TaskRegistry } from '../providers/registry.js';
import type { WatchEngine } from '../watch/engine.js';

/** A command as the platform layer hands it over: mentions stripped, sender known. */
export interface InboundCommand {
  platform: Platform;
  chatId: string;
  chatType: 'group' | 'p2p';
  userId: string;
  text: string;
  /** Set when the message carried no text (a picture, a file): its type, for the "text only" answer. */
  unsupported?: string;
  reply: ReplyContext;
  /** DingTalk storage tasks are read as the sender: their unionId, looked up on demand. */
  operator?: () => Promise<string | undefined>;
}

export interface Settings {
  locale: Locale;
  timeZone: string;
  allowedChatIds: string[];
  adminUserIds: string[];
}

/** With an allowlist set, only the chats on it may use the bot. */
export function chatAllowed(settings: Pick<Settings, 'allowedChatIds'>, chatId: string): boolean {
  return settings.allowedChatIds.length === 0 || settings.allowedChatIds.includes(chatId);
}

export interface CommandDeps {
  registry: Pick<TaskRegistry, 'fetch'>;
  engine: WatchEngine;
  digests: DigestScheduler;
  messengers: Partial<Record<Platform, Messenger>>;
  settings: Settings;
  clock: Clock;
  reports?: ReportSource;
  logger?: Logger;
  telemetry?: Pick<Telemetry, 'command'>;
}

/** What a handler answers: a card, and for `status` the snapshot to keep watching. */
export interface Answer {
  card: CardModel;
  track?: TaskSnapshot;
}

/** An answer as the router gives it: which command it answers (for metrics and logs) and whether it was refused. */
export interface RoutedAnswer extends Answer {
  command: string;
  denied?: boolean;
}

export interface HandlerInput {
  cmd: InboundCommand;
  args: string[];
  chat: ChatRef;
  locale: Locale;
  deps: CommandDeps;
}

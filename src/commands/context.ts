import type { Logger } from 'pino';
import type { CardModel } from '../domain/card.js';
import type { ChatRef, Messenger } from '../domain/chat.js';
import type { InboundCommand } from '../domain/inbound.js';
import type { Clock } from '../domain/clock.js';
import type { Telemetry } from '../domain/telemetry.js';
import type { Platform, TaskSnapshot } from '../domain/task.js';
import type { DigestScheduler, ReportSource } from '../digest/scheduler.js';
import type { Locale } from '../i18n/messages.js';
import type { TaskRegistry } from '../providers/registry.js';
import type { WatchEngine } from '../watch/engine.js';
import type { ChatSettings } from '../store/chat-settings.js';

export type { InboundCommand };

export interface Settings {
  locale: Locale;
  timeZone: string;
  allowedChatIds: string[];
  adminUserIds: string[];
  /** Where scripts reach taskbot's HTTP API (for the `chatid` answer). */
  publicUrl?: string;
}

/** With ADMIN_USER_IDS set, only those people change a chat's settings (digest, language, notify default). */
export function isAdmin(settings: Pick<Settings, 'adminUserIds'>, userId: string): boolean {
  return settings.adminUserIds.length === 0 || settings.adminUserIds.includes(userId);
}

/** A chat's own settings, read and written per chat. */
export interface ChatPrefs {
  get(chat: ChatRef): Promise<ChatSettings>;
  set(chat: ChatRef, patch: ChatSettings): Promise<void>;
}

/** With an allowlist set, only the chats on it may use the bot. */
export function chatAllowed(settings: Pick<Settings, 'allowedChatIds'>, chatId: string): boolean {
  return settings.allowedChatIds.length === 0 || settings.allowedChatIds.includes(chatId);
}

export interface CommandDeps {
  registry: Pick<TaskRegistry, 'fetch' | 'failedRows' | 'candidates'>;
  engine: WatchEngine;
  digests: DigestScheduler;
  messengers: Partial<Record<Platform, Messenger>>;
  settings: Settings;
  chats: ChatPrefs;
  clock: Clock;
  reports?: ReportSource;
  logger?: Logger;
  telemetry?: Pick<Telemetry, 'command'>;
}

/** What a handler answers: a card, and for `status` the snapshot to keep watching (and whether the asker waits for its end). */
export interface Answer {
  card: CardModel;
  track?: TaskSnapshot;
  subscribe?: boolean;
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
  /** The chat's language (its own, else the operator's). */
  locale: Locale;
  prefs: ChatSettings;
  deps: CommandDeps;
}

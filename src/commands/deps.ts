import type { Logger } from 'pino';
import type { CardModel } from '../domain/card.js';
import type { ChatRef, Messengers } from '../domain/chat.js';
import type { InboundCommand } from '../domain/inbound-port.js';
import type { Clock } from '../domain/clock.js';
import type { Telemetry } from '../domain/telemetry.js';
import type { TaskSnapshot } from '../domain/task.js';
import type { AppRef } from '../domain/apps.js';
import type { DigestScheduler, ReportSource } from '../digest/scheduler.js';
import type { Locale } from '../domain/locale.js';
import type { TaskRegistry } from '../providers/registry.js';
import type { CardOperations } from '../watch/card-operations.js';
import type { CardStore } from '../store/cards.js';
import type { ChatSettings } from '../store/chat-settings.js';
import type { FormStore } from '../store/forms.js';

export type { InboundCommand };

/** What the operator set for one app (DESIGN §8): its ids mean nothing in another app. */
export interface AppSettings {
  locale: Locale;
  timeZone: string;
  allowedChatIds: string[];
  adminUserIds: string[];
}

export interface Settings {
  /** An app's settings; an app not served gets the operator's defaults and no admins. */
  of(app: string): AppSettings;
  /** Where scripts reach taskbot's HTTP API (for the `chatid` answer). */
  publicUrl?: string;
}

/** A chat's own settings, read and written per chat. */
export interface ChatPrefs {
  get(chat: ChatRef): Promise<ChatSettings>;
  set(chat: ChatRef, patch: ChatSettings): Promise<void>;
}

export interface CommandDeps {
  /** The apps served (DESIGN §8). */
  apps: readonly AppRef[];
  registry: Pick<TaskRegistry, 'fetch' | 'failedRows' | 'candidates'>;
  /** Starting to watch a card, and what people do to cards (Refresh, Stop, Notify me). */
  watch: CardOperations;
  /** What commands read of cards: one, a chat's or a person's. */
  cards: Pick<CardStore, 'get' | 'described' | 'overview'>;
  digests: DigestScheduler;
  messengers: Messengers;
  settings: Settings;
  chats: ChatPrefs;
  clock: Clock;
  reports?: ReportSource;
  /** Where form cards are recorded with the chat they were delivered to (for platforms whose submissions do not say). */
  forms?: Pick<FormStore, 'add' | 'get'>;
  logger?: Logger;
  telemetry?: Pick<Telemetry, 'command'>;
}

/** What a handler answers: a card, and for `status` the snapshot to keep watching (and whether the asker waits for its end). */
export interface Answer {
  card: CardModel;
  track?: TaskSnapshot;
  subscribe?: boolean;
  /** The policy refused the sender (for metrics and logs). */
  denied?: boolean;
}

/** An answer as the router gives it: which command it answers (for metrics and logs). */
export interface RoutedAnswer extends Answer {
  command: string;
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

/** Per-person and per-chat limits of button presses and forms (admission/flood.ts): anything but `ok` is over. */
export interface PressLimit {
  check(app: string, chatId: string, userId: string, now: number): 'ok' | 'notify' | 'drop';
}

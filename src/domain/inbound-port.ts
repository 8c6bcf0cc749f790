import type { ButtonAction, CardModel } from './card.js';
import type { ReplyContext } from './chat.js';
import type { Platform } from './task.js';
import type { Locale } from './locale.js';

/** A command as the core works it: of one app (DESIGN §8), mentions stripped, sender known. */
export interface InboundCommand {
  /** The app it came to; its chat and user ids mean nothing in another. */
  app: string;
  /**
   * The organisation it came from, where the platform says (Feishu `tenant_key`, DingTalk
   * `chatbotCorpId`). A self-built app has one; a marketplace or suite app (not supported yet)
   * serves many, and would key its data by app and tenant.
   */
  tenant?: string;
  platform: Platform;
  chatId: string;
  /** When the platform says (a message does; a card callback or a menu click does not). */
  chatType?: 'group' | 'p2p';
  userId: string;
  text: string;
  /** Set when the message carried no text (a picture, a file): its type, for the "text only" answer. */
  unsupported?: string;
  reply: ReplyContext;
  /** DingTalk storage tasks are read as the sender: their unionId, looked up on demand. */
  operator?: () => Promise<string | undefined>;
}

/**
 * A command as a platform receiver hands it over: it serves one app and knows nothing of others;
 * the app's port (`inboundPort` in admission/accept.ts) says which.
 */
export type PlatformCommand = Omit<InboundCommand, 'app'>;

/**
 * A button pressed on one of our cards, as the platform layer hands it over. Its keys are in the
 * platform's namespace (`feishu:…`); the app's port moves them into the app's.
 */
export interface CardPress {
  cardKey: string;
  action: ButtonAction;
  /** The chat the card is in, when the callback says (Feishu); otherwise the card's record says. */
  chatId?: string;
  /** The platform's id of this delivery: a redelivered press is answered but not acted on twice. */
  deliveryKey?: string;
  /** Who pressed it (Feishu open_id, DingTalk staffId), as the platform says: Notify me needs it. */
  userId?: string;
}

/** A submitted Track a task form, as the platform layer hands it over. */
export interface FormSubmission {
  /**
   * The `status` command it stands for. Its chat is the platform's word where the submission says
   * (Feishu); where it does not (DingTalk), what the client sent, checked against `delivered`.
   */
  cmd: PlatformCommand;
  keys: string[];
  /** The form card as taskbot delivered it (`platform:handle`), when the submission names no chat: it acts in the chat recorded for it. */
  delivered?: string;
}

/** A form submission once its app's port has taken it: the command stamped with the app, the keys in its namespace. */
export interface AppFormSubmission extends Omit<FormSubmission, 'cmd'> {
  cmd: InboundCommand;
}

export type CardActionOutcome =
  | { kind: 'card'; card: CardModel; toast: string }
  | { kind: 'toast'; toast: string; level: 'info' | 'error' }
  /** A redelivery of a press already being answered: acknowledge, change nothing. */
  | { kind: 'duplicate'; toast: string };

/**
 * What a platform receiver hands its inbound traffic to (docs/architecture.md, "A command"): the app builds it,
 * the receivers only translate wire formats into these calls, so `platforms/` never imports `app/`.
 */
export interface InboundPort {
  /**
   * A message addressed to the bot: kept for background work (in the store, so it outlives this
   * process), resolving once it is; acknowledge the event then. `keys` identify the delivery. Never rejects.
   */
  command(cmd: PlatformCommand, keys: string[]): Promise<void>;
  /** A card button: answered within `budgetMs`; never throws. */
  cardAction(press: CardPress, budgetMs: number): Promise<CardActionOutcome>;
  /**
   * A submitted Track a task form, as the `status` command it is, answered within `budgetMs`: the
   * task is looked up first, and a form that is not the chat's, words `status` would refuse, or a
   * lookup that fails are told at once (`ok` false, the toast says why, the form stays filled);
   * otherwise (found, or still looking at the deadline) kept and answered like a typed command.
   * Never rejects.
   */
  trackForm(form: FormSubmission, budgetMs: number): Promise<{ ok: boolean; toast: string }>;
  /** Something arrived for this port's app (for metrics), whether or not it is understood. */
  event(type: string): void;
  /** The language of the receivers' own short answers. */
  readonly locale: Locale;
}

import type { Generated } from 'kysely';
import type { CardStatus } from '../domain/card-status.js';
import type { Platform } from '../domain/task.js';
import type { Locale } from '../domain/locale.js';
import type { StopRule } from '../domain/policy.js';

/** One row per card taskbot keeps up to date (a Feishu message_id or a DingTalk outTrackId). */
export interface CardTable {
  /** `${app}:${handle}` */
  card_key: string;
  /** The app it was sent through (DESIGN §8). */
  app: string;
  platform: Platform;
  handle: string;
  chat_id: string;
  task_key: string;
  locale: Locale;
  /** Written only by watch/lifecycle.ts, each move conditional on the status it expects. */
  status: CardStatus;
  /** The status whose rendering the platform last took (null: not known to be shown). */
  shown: CardStatus | null;
  /** Hash of the last card content sent to this handle. */
  rendered_hash: string | null;
  last_update_at: number | null;
  created_at: number;
  /** Platform-specific delivery facts (e.g. DingTalk markdown fallback), JSON. */
  meta: string | null;
  /** Consecutive failed sends to this card, and when to try again. */
  fail_count: Generated<number>;
  retry_at: number | null;
  /** A title of its own (given by the script that posted the card); null: the task's kind and id. */
  title: string | null;
  /** Why sends to it are refused until the admin acts (`PERMISSION_DENIED: im:message`); null while they go through. */
  last_error: string | null;
  /** Who asked for it in the chat (the platform's user id); null when a script or the CLI posted it. */
  asked_by: string | null;
  /** 1 while taskbot has it pinned in its chat (unpinned when it is no longer active); written only by watch/lifecycle.ts. */
  pinned: number | null;
}

/** One row per distinct upstream task, however many cards show it. */
export interface TaskTable {
  /** `${app}:${kind}:${task_id}`: one task id in two apps is two tasks. */
  task_key: string;
  app: string;
  platform: Platform;
  kind: string;
  task_id: string;
  operator: string | null;
  /** The last TaskSnapshot, JSON. */
  snapshot: string;
  snapshot_hash: string;
  /** 1 exactly while the task has an active card (kept in step with the cards in every card write). */
  active: number;
  /** 1 while an ended card still owes its last rendering (no polling needed, only a send). */
  pending: Generated<number>;
  /** Someone asked for the task while a round held it: due again as soon as the round ends. */
  poked: Generated<number>;
  next_due_at: number;
  backoff_ms: number;
  created_at: number;
  last_changed_at: number;
  /** Consecutive transient failures, for logs and the card note. */
  error_count: number;
  last_error: string | null;
  lease_owner: string | null;
  lease_until: number | null;
  /** Recent progress samples, JSON `[[at, percent], …]`, for the time-left estimate. */
  history: string | null;
  /** Someone looked again (Refresh, another `status`): polled faster until then. */
  interest_until: number | null;
  /** The replica whose card queue holds writes this task's cards owe; null when none does. */
  held_by: string | null;
}

/** Someone waiting to be told (mentioned once) when the task of a card ends. */
export interface SubscriberTable {
  card_key: string;
  user_id: string;
  created_at: number;
  /** When the mention was sent (or given up); null while it is owed. */
  notified_at: number | null;
  /** When a holder of the task's lease was about to send the mention (its outcome unknown until notified_at is set). */
  mention_at: number | null;
}

/** A chat's own settings; null columns follow the operator's defaults. */
export interface ChatSettingsTable {
  /** `${app}:${chat_id}` */
  chat_key: string;
  app: string;
  platform: Platform;
  chat_id: string;
  locale: Locale | null;
  /** 1: every `status` asker is notified when the task ends. */
  notify_default: number | null;
  /** Who may stop its cards: 'asker' (with admins and the group's owner and managers) or 'anyone'; null: 'asker'. */
  stop_rule: StopRule | null;
  /** 1: live cards are pinned while their task runs. */
  pin: number | null;
  /** Why the platform refused to pin here (a missing scope), told once; pinning waits for `pin on` again. */
  pin_blocked: string | null;
  updated_at: number;
}

/** Script API requests by Idempotency-Key: a retry gets the first answer instead of a second card. */
export interface ApiRequestTable {
  key: string;
  body_hash: string;
  /** The HTTP status answered, 0 while the first request is still working. */
  status: number;
  response: string | null;
  expires_at: number;
  /** Who works the request while status is 0, renewed while it runs; a lapsed lease makes the key retryable. */
  lease_owner: string | null;
  lease_until: number | null;
}

export interface DigestTable {
  chat_key: string;
  app: string;
  platform: string;
  chat_id: string;
  cron: string;
  time_zone: string;
  locale: string;
  /** Human description as the user typed it, e.g. "daily 09:00". */
  spec: string;
  last_fired_at: number | null;
  next_fire_at: number;
  /** The time it was when next_fire_at was worked out; one ahead of now means the clock went back since (null: before this was kept). */
  planned_at: number | null;
  created_at: number;
  /** Failed sends of the firing that is due (reset once it is sent). */
  failed_attempts: Generated<number>;
  lease_owner: string | null;
  lease_until: number | null;
}

/**
 * Inbound ids claimed once. The first id of a command's delivery also holds the command itself
 * until it is answered, leased to the replica working it: acknowledged means durable, and a command
 * whose holder died is answered by another replica.
 */
export interface DedupeTable {
  key: string;
  expires_at: number;
  /** The command, JSON, while it is owed an answer; null once answered (and for ids that are not commands). */
  payload: string | null;
  lease_owner: string | null;
  lease_until: number | null;
  /** How many holders have taken it: a command that keeps killing its holders is answered with an apology. */
  attempts: Generated<number>;
}

/** The replicas sharing this database, each with when it last said it was alive. */
export interface ReplicaTable {
  owner: string;
  seen_at: number;
}

export interface MigrationMarker {
  id: Generated<number>;
}

/**
 * A form card taskbot delivered where the platform's submissions do not say which chat they come
 * from (DingTalk): the chat is the one recorded here, never a value the client sends.
 */
export interface FormTable {
  /** `${app}:${handle}` (a DingTalk outTrackId). */
  form_key: string;
  app: string;
  platform: Platform;
  chat_id: string;
  /** The person whose 1:1 chat it is (only they submit it); null in a group. */
  for_user: string | null;
  created_at: number;
}

export interface Database {
  cards: CardTable;
  forms: FormTable;
  tasks: TaskTable;
  digests: DigestTable;
  dedupe: DedupeTable;
  subscribers: SubscriberTable;
  chat_settings: ChatSettingsTable;
  api_requests: ApiRequestTable;
  replicas: ReplicaTable;
}

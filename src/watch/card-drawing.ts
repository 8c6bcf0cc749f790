import { cardHash, taskCard, type TaskCardMode } from '../cards/task-card.js';
import type { CardModel } from '../domain/card.js';
import type { CardStatus } from '../domain/card-status.js';
import type { ErrorCode } from '../domain/errors.js';
import type { Estimate, ProgressSample } from '../domain/eta.js';
import type { TaskSnapshot } from '../domain/task.js';
import { errorLine } from '../i18n/messages.js';
import type { CardRow } from '../store/store.js';

/** What one round knows about a task, for its cards. */
export interface RoundView {
  snap: TaskSnapshot;
  /** Where active cards go: stay `active`, or end as `done`, `expired` or `error`. */
  target: Extract<CardStatus, 'active' | 'done' | 'expired' | 'error'>;
  /** How active cards that stay active are drawn; null leaves them as they are (no news). */
  live: Extract<TaskCardMode, 'live' | 'retrying'> | null;
  /** The error an `error` or `retrying` card names. */
  errorCode?: ErrorCode;
  /** This card's rendering is answered inline (a button callback), not sent. */
  inlineKey?: string;
  /** Live cards show the time left (or how long nothing moved). */
  estimate?: Estimate;
  /** Progress samples, drawn as a chart of progress over time (live and final cards). */
  history?: readonly ProgressSample[];
}

/** A rendering to answer a button with, drawn for `status`. */
export interface InlineCard {
  model: CardModel;
  status: CardStatus;
  hash: string;
}

const MODE: Record<Exclude<CardStatus, 'active' | 'gone'>, TaskCardMode> = { done: 'final', stopped: 'stopped', expired: 'expired', error: 'error' };

/**
 * Draws cards for one view: the cards of a task that look alike (status, language, title, people
 * waiting) are drawn and hashed once, not once per card. The models are never changed after.
 */
export function drawer(view: RoundView, timeZone: string): (c: CardRow & { waiting?: number }) => { model: CardModel; hash: string } {
  const drawn = new Map<string, { model: CardModel; hash: string }>();
  return (c) => {
    const key = `${c.status}\u0000${c.locale}\u0000${c.title ?? ''}\u0000${c.waiting ?? 0}`;
    let d = drawn.get(key);
    if (!d) {
      const model = drawCard(c, view, timeZone);
      d = { model, hash: cardHash(model) };
      drawn.set(key, d);
    }
    return d;
  };
}

/** A card of the task as `view` shows it, in the card's status, language and title. */
export function drawCard(c: CardRow & { waiting?: number }, view: RoundView, timeZone: string): CardModel {
  const mode = c.status === 'active' ? (view.live ?? 'live') : MODE[c.status as keyof typeof MODE];
  const code = view.errorCode;
  return taskCard(view.snap, {
    locale: c.locale,
    timeZone,
    mode,
    ...(c.title && { title: c.title }),
    ...(view.estimate && { estimate: view.estimate }),
    ...(view.history && { history: view.history }),
    ...(c.waiting && { waiting: c.waiting }),
    ...(code && (mode === 'error' || mode === 'retrying') && { errorCode: code, errorText: errorLine({ code, details: {} }, c.locale) }),
  });
}

import type { SendLane } from '../domain/chat.js';

/**
 * Why a task's cards are worked on: each caller's reason as one value (docs/architecture.md, "A
 * card's life"), under the task's lease.
 * - `round`: the watch loop. The task is polled when an active card wants news, else only what its
 *   ended cards owe is drawn; every card goes to the card queue.
 * - `refresh`: a person's Refresh. The task is polled now (a person's read, never waiting for the
 *   poll budget); their card is drawn first (answered inline when asked), the others queued.
 * - `stop`: a Stop. The stopped card is drawn now at the people's lane, inline when asked and only
 *   when it does not show it already (two presses must not both draw it).
 * - `redraw`: these cards drawn again from what is stored, now at `lane`: the people waiting
 *   changed (Notify me), or a queued update's turn came (`turn`: skipped when another replica
 *   took the task's queued writes over meanwhile); `inline` is answered to its press.
 */
export type Intent =
  | { kind: 'round' }
  | { kind: 'refresh'; card: string; inline: boolean }
  | { kind: 'stop'; card: string; inline: boolean }
  | { kind: 'redraw'; cards: readonly string[]; lane: SendLane; inline?: string; turn?: true };

/** The cards an intent is about; undefined: all of the task's that want work. */
export function cardsOf(i: Intent): readonly string[] | undefined {
  if (i.kind === 'stop') return [i.card];
  return i.kind === 'redraw' ? i.cards : undefined;
}

/** The card whose rendering is answered to a press (inline), if any. */
export function inlineOf(i: Intent): string | undefined {
  if (i.kind === 'redraw') return i.inline;
  return i.kind !== 'round' && i.inline ? i.card : undefined;
}

/** The task's lease is another's (a round, another replica): it does the work, told to look again soon. */
export const BUSY: unique symbol = Symbol('busy');

/**
 * A watched card's life. `active` cards are kept up to date; the others show how the watch
 * ended. Refresh brings a stopped, expired or failed card back; `done` and `gone` are final.
 */
export type CardStatus = 'active' | 'stopped' | 'done' | 'expired' | 'error' | 'gone';

/** The only moves a card may make. `gone` (the platform will not take updates any more) can follow any other. */
export const CARD_TRANSITIONS: Readonly<Record<CardStatus, readonly CardStatus[]>> = {
  active: ['stopped', 'done', 'expired', 'error', 'gone'],
  stopped: ['active', 'gone'],
  expired: ['active', 'gone'],
  error: ['active', 'gone'],
  done: ['gone'],
  gone: [],
};

/** The states a card can be in just before it moves to `to`. */
export function sourcesOf(to: CardStatus): CardStatus[] {
  return (Object.keys(CARD_TRANSITIONS) as CardStatus[]).filter((from) => CARD_TRANSITIONS[from].includes(to));
}

/** Statuses Refresh restarts. */
export const RESTARTABLE: readonly CardStatus[] = sourcesOf('active');

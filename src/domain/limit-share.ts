/**
 * This replica's share of an app-wide limit (app/presence.ts): 1 alone, 1/N among N
 * replicas on one database. Read at every use, since replicas come and go.
 */
export type LimitShare = () => number;

export const ALONE: LimitShare = () => 1;

/** `limit` scaled by `share`, whole and never below one (a replica always gets a turn). */
export function sharedLimit(limit: number, share: number): number {
  return Math.max(1, Math.floor(limit * share));
}

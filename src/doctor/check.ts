/** One check of `taskbot doctor`: what it looked at, whether it passed, and what to do when not. */
export interface Check {
  group: string;
  name: string;
  ok: boolean;
  detail: string;
  /** What to do when it failed. */
  fix?: string;
}

/** A gate a test holds work at: `reached` once something entered it, `opened` once the test lets it through. */
export function latch() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  let entered!: () => void;
  const reached = new Promise<void>((r) => (entered = r));
  return { open, opened, reached, enter: entered };
}

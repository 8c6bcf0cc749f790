import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A small tmpfs, when this machine lets the tests mount one (as root): real ENOSPC. */
export interface SmallDisk {
  dir: string;
  /** Fills what is left of it. */
  fill(): void;
  /** Makes room again. */
  free(): void;
  unmount(): void;
}

export function smallDisk(): SmallDisk | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'taskbot-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  const filler = join(dir, 'filler');
  return {
    dir,
    fill() {
      const fd = openSync(filler, 'w');
      try {
        for (const chunk = Buffer.alloc(64 * 1024, 1); ; ) writeSync(fd, chunk);
      } catch {
        // ENOSPC: full.
      } finally {
        closeSync(fd);
      }
    },
    free: () => rmSync(filler),
    unmount() {
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryCgroup } from '../../bench/memory-limit.js';

/** The benchmarks measure taskbot as deployed, inside its memory limit, where this machine lets them. */
describe.runIf(process.getuid?.() === 0 && existsSync('/sys/fs/cgroup'))('bench memory cgroup', () => {
  it('a process moved into it sees the limit (as V8 will), and the group goes away afterwards', () => {
    const g = memoryCgroup(96);
    expect(g).toBeDefined();
    const seen = execFileSync('/bin/sh', ['-c', 'echo $$ > "$0" && exec "$@"', g!.procs, process.execPath, '-e', 'console.log(process.constrainedMemory())'], {
      encoding: 'utf8',
    });
    expect(Number(seen)).toBe(96 * 1024 * 1024);
    g!.remove();
    expect(existsSync(dirname(g!.procs))).toBe(false);
  });
});

import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What every way of installing taskbot gives it (compose.yaml `mem_limit`, the manifests' limits, systemd `MemoryMax`). */
export const DEPLOYED_LIMIT_MB = 384;

export interface MemoryCgroup {
  /** Write a pid here to move that process (and the children it starts after) into the group. */
  procs: string;
  remove(): void;
}

/**
 * A memory cgroup limited to `limitMb`, for measuring a benchmark as taskbot is deployed: Node 24's
 * V8 sizes its young generation by the memory it sees (README, Deploying → Memory), so a process
 * measured without the limit it ships with is not the one that runs. Undefined where this process
 * may not make one (not root, no memory controller): the benchmarks then run without, and say so.
 */
export function memoryCgroup(limitMb: number): MemoryCgroup | undefined {
  const name = `taskbot-bench-${process.pid}`;
  const bytes = String(limitMb * 1024 * 1024);
  const v2 = '/sys/fs/cgroup';
  const v1 = '/sys/fs/cgroup/memory';
  try {
    if (existsSync(join(v2, 'cgroup.controllers')) && readFileSync(join(v2, 'cgroup.subtree_control'), 'utf8').split(/\s+/).includes('memory')) {
      return make(join(v2, name), 'memory.max', bytes);
    }
    if (existsSync(join(v1, 'memory.limit_in_bytes'))) return make(join(v1, name), 'memory.limit_in_bytes', bytes);
  } catch {
    // Not ours to make (no permission, a read-only /sys): run without.
  }
  return undefined;
}

function make(dir: string, limitFile: string, bytes: string): MemoryCgroup {
  mkdirSync(dir);
  try {
    writeFileSync(join(dir, limitFile), bytes);
  } catch (e) {
    rmdirSync(dir);
    throw e;
  }
  return {
    procs: join(dir, 'cgroup.procs'),
    remove: () => {
      try {
        rmdirSync(dir);
      } catch {
        // A process still in it (a fake the benchmark left running): the kernel frees it with the last one.
      }
    },
  };
}

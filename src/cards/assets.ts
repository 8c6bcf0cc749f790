import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Found from this module in src/ or dist/src/. */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('taskbot: cannot find the package root (package.json)');
    dir = up;
  }
  return dir;
}

const ROOT = findRoot();

/** The package root (holding package.json, cards/ and console/). */
export function packageRoot(): string {
  return ROOT;
}
const cache = new Map<string, unknown>();

/** A JSON file under the package's cards/ folder, read once. */
export function cardAsset<T>(rel: string): T {
  let v = cache.get(rel);
  if (v === undefined) {
    v = JSON.parse(readFileSync(join(ROOT, 'cards', rel), 'utf8'));
    cache.set(rel, v);
  }
  return v as T;
}

/**
 * Fills a layout: a string that is exactly "{{name}}" becomes the value (any JSON), and
 * "{{name}}" inside a longer string is replaced by its text. Layouts are ours, values are data.
 */
export function fillLayout(node: unknown, vars: Record<string, unknown>): unknown {
  if (typeof node === 'string') {
    const whole = /^\{\{(\w+)\}\}$/.exec(node);
    if (whole && Object.hasOwn(vars, whole[1]!)) return vars[whole[1]!];
    return node.replace(/\{\{(\w+)\}\}/g, (m, k: string) => (Object.hasOwn(vars, k) ? String(vars[k]) : m));
  }
  if (Array.isArray(node)) return node.map((n) => fillLayout(n, vars));
  if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, fillLayout(v, vars)]));
  return node;
}

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
 * Each layout is read once into a filler (cards are drawn on every update of every card): parts
 * without a placeholder are frozen and shared by every card drawn from it, never copied.
 */
export function fillLayout(node: unknown, vars: Record<string, unknown>): unknown {
  return compile(node)(vars);
}

type Filler = (vars: Record<string, unknown>) => unknown;
const fillers = new WeakMap<object, Filler>();
const PLACEHOLDERS = /\{\{(\w+)\}\}/g;

function compile(node: unknown): Filler {
  if (typeof node === 'string') return compileText(node);
  if (!node || typeof node !== 'object') return () => node;
  let f = fillers.get(node);
  if (f) return f;
  if (!hasPlaceholder(node)) {
    const shared = deepFreeze(node);
    f = () => shared;
  } else if (Array.isArray(node)) {
    const parts = node.map(compile);
    f = (vars) => parts.map((p) => p(vars));
  } else {
    const parts = Object.entries(node).map(([k, v]) => [k, compile(v)] as const);
    f = (vars) => {
      const out: Record<string, unknown> = {};
      for (const [k, p] of parts) out[k] = p(vars);
      return out;
    };
  }
  fillers.set(node, f);
  return f;
}

function compileText(text: string): Filler {
  if (!text.includes('{{')) return () => text;
  const whole = /^\{\{(\w+)\}\}$/.exec(text)?.[1];
  if (whole !== undefined) return (vars) => (Object.hasOwn(vars, whole) ? vars[whole] : text);
  return (vars) => text.replace(PLACEHOLDERS, (m, k: string) => (Object.hasOwn(vars, k) ? String(vars[k]) : m));
}

function hasPlaceholder(node: unknown): boolean {
  if (typeof node === 'string') return node.includes('{{');
  if (Array.isArray(node)) return node.some(hasPlaceholder);
  if (node && typeof node === 'object') return Object.values(node).some(hasPlaceholder);
  return false;
}

function deepFreeze<T>(node: T): T {
  if (node && typeof node === 'object' && !Object.isFrozen(node)) {
    for (const v of Object.values(node)) deepFreeze(v);
    Object.freeze(node);
  }
  return node;
}

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * What the dependency rules (.dependency-cruiser.cjs, `npm run lint`) cannot say: how the platform
 * SDKs are loaded. Which folder may import what is theirs.
 */
const SRC = join(import.meta.dirname, '../../src');
const SDKS = ['@larksuiteoapi/node-sdk', 'dingtalk-stream'];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('the platform SDKs', () => {
  const all = files(SRC).map((f) => ({ file: relative(SRC, f), text: readFileSync(f, 'utf8') }));

  it('are loaded with require, each in its sdk.ts: an ESM import of their CommonJS keeps a second copy of the source (feishu/sdk.ts)', () => {
    const valueImports = all.flatMap((f) =>
      [...f.text.matchAll(/^import\s+(?!type\b)[^;]*?from\s+'([^']+)'/gm)].filter((m) => SDKS.includes(m[1]!)).map((m) => `${f.file} → ${m[1]}`),
    );
    expect(valueImports).toEqual([]);
    const required = all.filter((f) => SDKS.some((s) => f.text.includes(`createRequire(import.meta.url)('${s}')`))).map((f) => f.file);
    expect(required.sort()).toEqual(['platforms/dingtalk/sdk.ts', 'platforms/feishu/sdk.ts']);
  });
});

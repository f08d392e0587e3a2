#!/usr/bin/env bash
# The main job on a fresh machine: set up, start berthd on its embedded defaults (root
# /var/lib/berth, socket /run/berth/berthd.sock), and show it working through Debian's ctr
# and Berth's own CLI. Pass --keep to leave the daemon running afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="/usr/local/bin:$PATH"

SOCK=/run/berth/berthd.sock
LOG=$(mktemp /tmp/berthd-demo.XXXXXX.log)
node_modules/.bin/berthd >"$LOG" 2>&1 &
PID=$!
stop() { kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true; }
[ "${1:-}" = "--keep" ] || trap stop EXIT

for _ in $(seq 1 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || { echo "berthd did not start:"; cat "$LOG"; exit 1; }

step() { printf '\n$ %s\n' "$*"; "$@"; }
step ctr -a "$SOCK" version
step ctr -a "$SOCK" plugins ls
step node_modules/.bin/berth -a "$SOCK" plugins ls

# Everything below publishes events; `ctr events` on the same socket prints them.
printf '\n$ ctr -a %s events &   (prints what the commands below publish)\n' "$SOCK"
timeout 8 ctr -a "$SOCK" events > "$LOG.events" 2>&1 & EVENTS=$!
sleep 0.5
step ctr -a "$SOCK" namespaces create demo owner=berth
step ctr -a "$SOCK" namespaces ls
BLOB=$(mktemp /tmp/berth-demo-blob.XXXXXX)
head -c 32M /dev/urandom > "$BLOB"
step ctr -a "$SOCK" -n demo content ingest demo-ref < "$BLOB"
DIGEST="sha256:$(sha256sum "$BLOB" | cut -d' ' -f1)"
step ctr -a "$SOCK" -n demo content ls
printf '\n$ ctr -n demo content get %s | sha256sum\n' "$DIGEST"
ctr -a "$SOCK" -n demo content get "$DIGEST" | sha256sum
step ctr -a "$SOCK" -n demo leases create --id demo-lease
step ctr -a "$SOCK" -n demo leases ls
step ctr -a "$SOCK" -n demo leases rm demo-lease
step ctr -a "$SOCK" -n demo content rm "$DIGEST"
step ctr -a "$SOCK" namespaces rm demo
node scripts/publish-demo-event.mjs "$SOCK"
rm -f "$BLOB"
wait "$EVENTS" || true
printf '\nwhat ctr events printed meanwhile:\n'
cat "$LOG.events"

# Running a container: the tiny image (static busybox) built offline by ../shared/fixtures and
# served by a registry on loopback, pulled by berthd itself (Transfer service, unpacked into
# overlayfs), then run through Debian's ctr and Berth's CLI.
FIXTURES="$(cd .. && pwd)/shared/fixtures"
[ -f .fixtures/images/fixtures.json ] || bash "$FIXTURES/build-images.sh" .fixtures/images
REGISTRY_DIR=$(mktemp -d /tmp/berth-demo-registry.XXXXXX)
# Only tiny is served: registry.sh pushes every layout of the directory it is given.
mkdir "$REGISTRY_DIR/images" && ln -s "$PWD/.fixtures/images/tiny" "$REGISTRY_DIR/images/tiny"
PORT=${BERTH_DEMO_REGISTRY_PORT:-5058} bash "$FIXTURES/registry.sh" start "$REGISTRY_DIR/registry" "$REGISTRY_DIR/images" >/dev/null
stop_registry() { bash "$FIXTURES/registry.sh" stop "$REGISTRY_DIR/registry" >/dev/null 2>&1 || true; rm -rf "$REGISTRY_DIR"; }
if [ "${1:-}" = "--keep" ]; then trap stop_registry EXIT; else trap 'stop_registry; stop' EXIT; fi
IMAGE="127.0.0.1:${BERTH_DEMO_REGISTRY_PORT:-5058}/tiny:latest"
step node_modules/.bin/berth -a "$SOCK" images pull --plain-http "$IMAGE"
stop_registry
step node_modules/.bin/berth -a "$SOCK" images ls
step ctr -a "$SOCK" run --rm "$IMAGE" demo-ctr echo "hello from a container on Berth (ctr)"
if node_modules/.bin/berth --help | grep -q "^  run "; then
  step node_modules/.bin/berth -a "$SOCK" run --rm "$IMAGE" demo-berth sh -c 'echo "hello from a container on Berth ($(uname -n))"'
fi

printf '\nberthd log (%s):\n' "$LOG"
cat "$LOG"
if [ "${1:-}" = "--keep" ]; then echo "berthd keeps running as pid $PID on $SOCK"; fi

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

# An event published by one client reaches `ctr events` subscribed on the same socket.
printf '\n$ ctr -a %s events   (while another client publishes /demo/hello)\n' "$SOCK"
timeout 3 ctr -a "$SOCK" events & EVENTS=$!
sleep 0.5
node scripts/publish-demo-event.mjs "$SOCK"
wait "$EVENTS" || true

printf '\nberthd log (%s):\n' "$LOG"
cat "$LOG"
if [ "${1:-}" = "--keep" ]; then echo "berthd keeps running as pid $PID on $SOCK"; fi

#!/usr/bin/env bash
# Sets up a fresh Debian machine for Berth: system packages, Node >= 22 and pnpm from the npm
# registry (the machine ships Node 20), then installs and builds the workspace. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages Berth's tests, demo and benchmarks use for real: containerd (its ctr client
# for interop tests, the daemon as the benchmarks' reference), runc, and what the offline
# fixture images and registry need (../shared/fixtures). Later issues add their tools here.
APT_PACKAGES=(containerd runc docker-registry skopeo jq busybox-static gcc libc6-dev libisal-dev btrfs-progs apache2-utils openssl tmux criu python3 containernetworking-plugins iptables socat util-linux iproute2)

log() { printf 'setup: %s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  log "must run as root (it installs Debian packages; berthd mounts filesystems)"
  exit 1
fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node 24 and pnpm 12 from the npm registry into /usr/local (before /usr/bin on PATH).
export PATH="/usr/local/bin:$PATH"
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
pnpm_major() { pnpm --version 2>/dev/null | cut -d. -f1 || echo 0; }
if [ "$(node_major)" -lt 22 ] || [ "$(pnpm_major)" != "12" ]; then
  log "installing node@24 and pnpm@12 from the npm registry"
  npm install -g --prefix /usr/local node@24 pnpm@12 >/dev/null
  hash -r
fi
log "node $(node --version), pnpm $(pnpm --version)"

export TURBO_TELEMETRY_DISABLED=1
if [ -n "${CI:-}" ]; then
  pnpm install --frozen-lockfile
else
  pnpm install
fi
pnpm build
log "done: node_modules/.bin/berthd and node_modules/.bin/berth are ready"

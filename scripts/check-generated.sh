#!/usr/bin/env bash
# Fails when regenerating packages/api/src/gen from proto/ would change the committed output.
set -euo pipefail
cd "$(dirname "$0")/.."
pnpm --filter @berth/api run generate >/dev/null
changed=$(git status --porcelain -- packages/api/src/gen)
if [ -n "$changed" ]; then
  echo "generated code differs from proto/: run 'pnpm generate' and commit the result" >&2
  echo "$changed" >&2
  exit 1
fi
echo "generated code matches proto/"

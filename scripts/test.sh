#!/usr/bin/env bash
# Sets up the machine (scripts/setup.sh), then runs every check: generated code is current,
# lint and type checks, the whole test suite, and a smoke run of the benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="/usr/local/bin:$PATH" TURBO_TELEMETRY_DISABLED=1

echo "== generated code is current"
bash scripts/check-generated.sh

echo "== lint"
pnpm lint

echo "== test fixtures"
# Built once here: many test files use the same OCI layouts, and the build script is not
# safe to run concurrently.
fixtures_script="$(cd .. && pwd)/shared/fixtures/build-images.sh"
[ -f "$fixtures_script" ] || { echo "missing $fixtures_script (the shared fixtures beside the checkout)" >&2; exit 1; }
[ -f .fixtures/images/fixtures.json ] || bash "$fixtures_script" .fixtures/images

echo "== tests"
results=$(mktemp -d)
status=0
BERTH_TEST_RESULTS="$results" pnpm test || status=$?
summary=$(node scripts/summarize-tests.mjs "$results")
echo "$summary"

if [ -f bench/run.mjs ] || [ -f bench/run.ts ]; then
  echo "== benchmark smoke run"
  pnpm bench --smoke || status=$?
fi
# The suite's outcome stays the last line, whatever ran after the tests.
echo "$summary"
exit $status

// Shared vitest settings: each package's run also writes a JSON report when
// BERTH_TEST_RESULTS names a directory (scripts/test.sh adds them up).
import { basename } from "node:path";

export function vitestConfig(packageDir) {
  const out = process.env.BERTH_TEST_RESULTS;
  return {
    test: {
      include: ["src/**/*.test.ts", "test/**/*.test.ts"],
      passWithNoTests: true,
      // Real daemons, shims and mounts on 2 shared cores: generous, so load does not fail a test.
      testTimeout: 90_000,
      hookTimeout: 90_000,
      reporters: out ? ["default", "json"] : ["default"],
      ...(out ? { outputFile: { json: `${out}/${basename(packageDir)}.json` } } : {}),
    },
  };
}

// Shared vitest settings: each package's run also writes a JSON report when
// BERTH_TEST_RESULTS names a directory (scripts/test.sh adds them up).
import { basename } from "node:path";

export function vitestConfig(packageDir) {
  const out = process.env.BERTH_TEST_RESULTS;
  return {
    test: {
      include: ["src/**/*.test.ts", "test/**/*.test.ts"],
      passWithNoTests: true,
      testTimeout: 30_000,
      hookTimeout: 30_000,
      reporters: out ? ["default", "json"] : ["default"],
      ...(out ? { outputFile: { json: `${out}/${basename(packageDir)}.json` } } : {}),
    },
  };
}

import { defineConfig } from "vitest/config";
import { vitestConfig } from "../../vitest.shared.mjs";

const shared = vitestConfig(import.meta.dirname);

// One fixture registry (tiny, tiny-multiarch, multi pushed by skopeo) for the whole run.
export default defineConfig({
  ...shared,
  test: { ...shared.test, globalSetup: ["./test/global-setup.ts"], testTimeout: 120_000, hookTimeout: 180_000 },
});

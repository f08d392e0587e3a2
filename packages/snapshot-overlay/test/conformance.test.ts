import { describe, it } from "vitest";
import { snapshotterConformance } from "@berth/core";
import { overlayHarness, requireOverlayHost } from "./harness.js";

requireOverlayHost();

describe("overlayfs: snapshotter conformance", () => {
  for (const c of snapshotterConformance({ rebase: true })) {
    it(c.name, async () => c.run(await overlayHarness()), 120_000);
  }
});

describe("overlayfs with sync_remove: snapshotter conformance", () => {
  for (const c of snapshotterConformance({ skip: ["deep-chain"], rebase: true })) {
    it(c.name, async () => c.run(await overlayHarness({ syncRemove: true, mountOptions: ["index=off"] })), 120_000);
  }
});

import { describe, it } from "vitest";
import { snapshotterConformance } from "@berth/core";
import { btrfsHarness, useLoopBtrfs } from "./harness.js";

const loop = useLoopBtrfs();

describe("btrfs: snapshotter conformance", () => {
  for (const c of snapshotterConformance()) {
    it(c.name, async () => c.run(await btrfsHarness(loop())), 300_000);
  }
});

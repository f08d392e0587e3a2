import { lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { lgetxattr } from "@berth/native";
import { containerdManifest } from "./containerd-reference.js";
import { buildFixtures, fixtureImage } from "./fixtures.js";
import { applyMultiBind, applyMultiOverlay, expectMultiFacts } from "./multi.js";
import { requireRoot } from "./temp.js";
import { manifestDiff, treeManifest } from "./tree-manifest.js";

describe("applying the multi fixture", () => {
  beforeAll(async () => {
    requireRoot();
    await buildFixtures();
  }, 300_000);

  it("into one directory (bind mounts): the README's facts, diff IDs verified", async () => {
    const root = await applyMultiBind();
    expectMultiFacts(root);
    // The hardlink in layer 4 is one inode under two names.
    const a = lstatSync(join(root, "data/links/hardlink-to-m002"));
    const b = lstatSync(join(root, "data/medium/m002.bin"));
    expect(a.ino).toBe(b.ino);
    expect(lstatSync(join(root, "data/special/fifo")).isFIFO()).toBe(true);
  }, 120_000);

  it("into six overlay upper dirs: whiteouts as 0:0 devices, opaque xattr, and the merged view matches", async () => {
    const { view, layers } = await applyMultiOverlay();
    expectMultiFacts(view);
    const layer5 = layers[4]!;
    const wh = lstatSync(join(layer5, "data/small/d001"));
    expect(wh.isCharacterDevice() && wh.rdev === 0).toBe(true);
    expect(lstatSync(join(layer5, "data/large/random-24m.bin")).isCharacterDevice()).toBe(true);
    expect(lgetxattr(join(layer5, "data/opaque"), "trusted.overlay.opaque")?.toString()).toBe("y");
    expect(readdirSync(join(layer5, "data/opaque"))).toEqual(["upper-only"]);
    const bind = await applyMultiBind();
    expect(manifestDiff(treeManifest(view), treeManifest(bind))).toEqual([]);
  }, 180_000);

  it("gives the same tree as Debian's containerd unpacking the same image", async () => {
    const image = await fixtureImage("multi");
    const reference = await containerdManifest(image.layout);
    expect(reference.length).toBeGreaterThan(8000);
    const { view } = await applyMultiOverlay();
    expect(manifestDiff(treeManifest(view), reference)).toEqual([]);
    const bind = await applyMultiBind();
    expect(manifestDiff(treeManifest(bind), reference)).toEqual([]);
  }, 300_000);
});

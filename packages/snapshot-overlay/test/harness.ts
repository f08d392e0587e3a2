import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll } from "vitest";
import type { ConformanceHarness, Mount, OpContext } from "@berth/core";
import { mountAll, unmountAll } from "@berth/mount";
import { mountsBelow, requireRoot } from "@berth/testing";
import { createOverlaySnapshotter, type OverlaySnapshotter, type OverlaySnapshotterOptions } from "../src/index.js";

export const ctx: OpContext = { namespace: "default" };

/** Root: required, never skipped (mounts go through @berth/mount's mount(2), no mount(8)). */
export function requireOverlayHost(): void {
  beforeAll(() => requireRoot("these tests mount filesystems"));
}

const disposers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const dispose of disposers.splice(0).reverse()) await dispose();
});

export interface OverlayHarness extends ConformanceHarness {
  readonly snapshotter: OverlaySnapshotter;
}

/** A fresh snapshotter in a fresh temp dir; mounts and files are cleaned up after the test. */
export async function overlayHarness(opts: OverlaySnapshotterOptions = {}): Promise<OverlayHarness> {
  const root = await mkdtemp(join(tmpdir(), "berth-overlay-"));
  const snapshotter = await createOverlaySnapshotter(join(root, "snapshotter"), opts);
  let next = 0;
  disposers.push(async () => {
    const left = await mountsBelow(root);
    await unmountAll(root);
    await snapshotter.close();
    await rm(root, { recursive: true, force: true });
    assert.deepEqual(left, [], "the test left mounts behind");
  });
  return {
    snapshotter,
    ctx,
    root,
    async mount(mounts: readonly Mount[]) {
      const dir = join(root, "mnt", String(next++));
      await mkdir(dir, { recursive: true });
      await mountAll(mounts, dir);
      return dir;
    },
    unmount: (dir) => unmountAll(dir),
  };
}

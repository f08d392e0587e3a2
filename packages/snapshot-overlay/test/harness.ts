import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeAll } from "vitest";
import type { ConformanceHarness, Mount, OpContext } from "@berth/core";
import { createOverlaySnapshotter, type OverlaySnapshotter, type OverlaySnapshotterOptions } from "../src/index.js";
import { mountAll, mountsBelow, unmount } from "./mount8.js";

export const ctx: OpContext = { namespace: "default" };

/** Root, mount(8) and a kernel with overlay: required, never skipped. */
export function requireOverlayHost(): void {
  beforeAll(async () => {
    assert.equal(process.getuid?.(), 0, "these tests mount filesystems: run them as root");
    await promisify(execFile)("mount", ["--version"]).catch(() => {
      throw new Error("mount(8) is missing: install util-linux (apt-get install mount)");
    });
  });
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
    for (const dir of left) await unmount(dir);
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
    unmount,
  };
}

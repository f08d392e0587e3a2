import assert from "node:assert/strict";
import { mkdir, mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll } from "vitest";
import type { ConformanceHarness, Mount, OpContext } from "@berth/core";
import { mountAll, unmountAll } from "@berth/mount";
import { mountsBelow } from "@berth/testing";
import { createBtrfsSnapshotter, type BtrfsSnapshotter } from "../src/index.js";
import { makeLoopBtrfs, type LoopBtrfs } from "./host.js";

export const ctx: OpContext = { namespace: "default" };

let loop: LoopBtrfs | undefined;
/** One loop-backed btrfs per test file; each harness gets its own root on it. */
export function useLoopBtrfs(): () => LoopBtrfs {
  beforeAll(async () => {
    loop = await makeLoopBtrfs();
  }, 60_000);
  afterAll(async () => {
    await loop?.dispose();
    loop = undefined;
  });
  return () => {
    assert.ok(loop, "the loop btrfs was not set up");
    return loop;
  };
}

const disposers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const dispose of disposers.splice(0).reverse()) await dispose();
});

export interface BtrfsHarness extends ConformanceHarness {
  readonly snapshotter: BtrfsSnapshotter;
}

/**
 * A fresh snapshotter rooted on the loop btrfs. Mount points live on the host's filesystem,
 * beside the image; subvolumes stay in the image, which goes away with the test file.
 */
export async function btrfsHarness(fs: LoopBtrfs): Promise<BtrfsHarness> {
  const root = await mkdtemp(join(fs.mountPoint, "case-"));
  const mnt = await mkdtemp(join(fs.dir, "mnt-"));
  const snapshotter = await createBtrfsSnapshotter(join(root, "snapshotter"));
  let next = 0;
  disposers.push(async () => {
    const left = await mountsBelow(mnt);
    await unmountAll(mnt);
    await snapshotter.close();
    assert.deepEqual(left, [], "the test left mounts behind");
  });
  return {
    snapshotter,
    ctx,
    root,
    async mount(mounts: readonly Mount[]) {
      const dir = join(mnt, String(next++));
      await mkdir(dir);
      await mountAll(mounts, dir);
      return dir;
    },
    unmount: (dir) => unmountAll(dir),
  };
}

// core's snapshotter conformance suite, run against the namespaced view metadata builds over
// the real overlayfs snapshotter (as containerd runs its suite over its metadata snapshotter):
// namespacing must keep every promise of the backend's contract. Needs root and overlayfs.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEEP_CHAIN_CASE, snapshotterConformance, type ConformanceHarness, type Mount } from "@berth/core";
import { createOverlaySnapshotter } from "@berth/snapshot-overlay";
import { openMetadataStore } from "../src/index.js";
import { createMemoryContentStore } from "./memory-content-store.js";

const run = promisify(execFile);
const disposers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error("this suite mounts overlayfs: run it as root");
  await run("mount", ["--version"]).catch(() => {
    throw new Error("mount(8) is missing: install util-linux (apt-get install mount)");
  });
});

afterEach(async () => {
  for (const dispose of disposers.splice(0).reverse()) await dispose();
});

async function mountsBelow(dir: string): Promise<string[]> {
  const info = await readFile("/proc/self/mountinfo", "utf8");
  return info
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((p): p is string => p !== undefined && (p === dir || p.startsWith(dir + sep)))
    .sort((a, b) => b.length - a.length);
}

/** Mounts as a `ctr snapshots mounts` user would, with mount(8). */
async function mountAll(mounts: readonly Mount[], target: string): Promise<void> {
  for (const m of mounts) {
    const where = m.target ? join(target, m.target) : target;
    await run("mount", ["-t", m.type, "-o", m.options.join(","), m.source, where]);
  }
}

const unmount = async (dir: string) => void (await run("umount", ["-R", dir]));

/** Overlay in a temp dir, behind a fresh metadata store; the harness sees namespace "conformance". */
async function namespacedOverlay(): Promise<ConformanceHarness> {
  const root = await mkdtemp(join(tmpdir(), "berth-meta-overlay-"));
  const overlay = await createOverlaySnapshotter(join(root, "overlayfs"), {});
  const store = await openMetadataStore(join(root, "meta.lmdb"), createMemoryContentStore(), {
    snapshotters: new Map([["overlayfs", overlay]]),
  });
  disposers.push(async () => {
    const left = await mountsBelow(root);
    for (const dir of left) await unmount(dir);
    await store.close();
    await overlay.close();
    await rm(root, { recursive: true, force: true });
    expect(left, "the case left mounts behind").toEqual([]);
  });
  let next = 0;
  return {
    snapshotter: store.snapshotters.get("overlayfs")!,
    ctx: { namespace: "conformance" },
    root,
    async mount(mounts) {
      const dir = join(root, "mnt", String(next++));
      await mkdir(dir, { recursive: true });
      await mountAll(mounts, dir);
      return dir;
    },
    unmount,
  };
}

describe("namespaced overlayfs: snapshotter conformance", () => {
  // The wrapper hands mounts through untouched; mounting a lowerdir list longer than a page
  // is the mounter's job (@berth/mount), proved by overlay's own run of that case.
  for (const c of snapshotterConformance({ skip: [DEEP_CHAIN_CASE], rebase: true })) {
    it(c.name, async () => c.run(await namespacedOverlay()), 120_000);
  }
});

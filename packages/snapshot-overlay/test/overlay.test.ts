import { chown, link, lstat, mkdir, readdir, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { classOf, DEEP_CHAIN_LAYERS } from "@berth/core";
import { openSnapshotStorage } from "@berth/snapshot-storage";
import { createOverlaySnapshotter, UPPERDIR_LABEL } from "../src/index.js";
import { ctx, overlayHarness, requireOverlayHost, type OverlayHarness } from "./harness.js";

requireOverlayHost();

const snapshotsDir = (h: OverlayHarness) => join(h.snapshotter.root, "snapshots");
const dir = (h: OverlayHarness, name: string) => join(snapshotsDir(h), name);

async function commit(h: OverlayHarness, name: string, parent: string, files: Record<string, string> = {}): Promise<void> {
  const mounts = await h.snapshotter.prepare(ctx, `${name}-a`, parent);
  if (Object.keys(files).length > 0) {
    const target = await h.mount(mounts);
    for (const [path, content] of Object.entries(files)) await writeFile(join(target, path), content);
    await h.unmount(target);
  }
  await h.snapshotter.commit(ctx, name, `${name}-a`);
}

describe("overlay mounts", () => {
  it("binds a snapshot with no parent, and a view of one parent; overlays the rest, nearest lower first", async () => {
    const h = await overlayHarness({ mountOptions: ["index=off"] });
    const s = h.snapshotter;
    const fs = (id: number) => join(snapshotsDir(h), String(id), "fs");
    expect(await s.prepare(ctx, "a", "")).toEqual([{ type: "bind", source: fs(1), options: ["rw", "rbind"] }]);
    expect(await s.view(ctx, "v0", "")).toEqual([{ type: "bind", source: fs(2), options: ["ro", "rbind"] }]);
    await s.commit(ctx, "A", "a");
    expect(await s.view(ctx, "v1", "A")).toEqual([{ type: "bind", source: fs(1), options: ["ro", "rbind"] }]);
    expect(await s.prepare(ctx, "b", "A")).toEqual([
      { type: "overlay", source: "overlay", options: [`workdir=${join(snapshotsDir(h), "4", "work")}`, `upperdir=${fs(4)}`, `lowerdir=${fs(1)}`, "index=off"] },
    ]);
    await s.commit(ctx, "B", "b");
    expect(await s.view(ctx, "v2", "B")).toEqual([
      { type: "overlay", source: "overlay", options: [`lowerdir=${fs(4)}:${fs(1)}`, "index=off"] },
    ]);
  });

  it("keeps files in the upper directory: writes as files, deletions as overlay whiteouts", async () => {
    const h = await overlayHarness();
    await commit(h, "base", "", { keep: "k", gone: "g" });
    const mounts = await h.snapshotter.prepare(ctx, "work", "base");
    const target = await h.mount(mounts);
    await writeFile(join(target, "new"), "n");
    await rm(join(target, "gone"));
    await h.unmount(target);
    const upper = join(dir(h, "2"), "fs");
    expect((await readdir(upper)).sort()).toEqual(["gone", "new"]);
    const whiteout = await lstat(join(upper, "gone"));
    expect(whiteout.isCharacterDevice() && whiteout.rdev === 0).toBe(true);
  });

  it("gives a child's root the owner of its parent's root", async () => {
    const h = await overlayHarness();
    const mounts = await h.snapshotter.prepare(ctx, "base-a", "");
    const target = await h.mount(mounts);
    await chown(target, 1000, 1001);
    await h.unmount(target);
    await h.snapshotter.commit(ctx, "base", "base-a");
    const child = await h.mount(await h.snapshotter.prepare(ctx, "child", "base"));
    const st = await stat(child);
    await h.unmount(child);
    expect([st.uid, st.gid]).toEqual([1000, 1001]);
  });

  it(`gives ${DEEP_CHAIN_LAYERS} lowers in options longer than a page (what the deep-chain case mounts)`, async () => {
    const h = await overlayHarness();
    for (let i = 0; i < DEEP_CHAIN_LAYERS; i++) await commit(h, `l${i}`, i === 0 ? "" : `l${i - 1}`);
    const [mount] = await h.snapshotter.view(ctx, "top", `l${DEEP_CHAIN_LAYERS - 1}`);
    const lowerdir = mount!.options.find((o) => o.startsWith("lowerdir="))!;
    expect(lowerdir.split(":")).toHaveLength(DEEP_CHAIN_LAYERS);
    expect(lowerdir.length).toBeGreaterThan(4096);
  }, 60_000);
});

describe("overlay usage", () => {
  it("counts allocated blocks, not lengths, and a hardlinked inode once", async () => {
    const h = await overlayHarness();
    const mounts = await h.snapshotter.prepare(ctx, "a", "");
    const target = await h.mount(mounts);
    await writeFile(join(target, "data"), Buffer.alloc(256 * 1024, 1));
    await link(join(target, "data"), join(target, "again"));
    await writeFile(join(target, "sparse"), "");
    await truncate(join(target, "sparse"), 1024 * 1024 * 1024);
    await h.unmount(target);
    const usage = await h.snapshotter.usage(ctx, "a");
    // root + data (twice linked) + sparse; the sparse gigabyte takes no blocks
    expect(usage.inodes).toBe(3);
    expect(usage.size).toBeGreaterThanOrEqual(256 * 1024);
    expect(usage.size).toBeLessThan(2 * 256 * 1024);
    await h.snapshotter.commit(ctx, "A", "a");
    expect(await h.snapshotter.usage(ctx, "A")).toEqual(usage);
  });
});

describe("overlay upperdir label", () => {
  it("labels stat, update and walk answers with the upper directory, without storing it", async () => {
    const h = await overlayHarness({ upperdirLabel: true });
    const s = h.snapshotter;
    const mounts = await s.prepare(ctx, "a", "", { labels: { mine: "1" } });
    const target = await h.mount(mounts);
    await writeFile(join(target, "f"), "through the mount");
    await h.unmount(target);
    const upper = (await s.stat(ctx, "a")).labels[UPPERDIR_LABEL]!;
    expect(await readFile(join(upper, "f"), "utf8")).toBe("through the mount");
    expect((await s.stat(ctx, "a")).labels).toEqual({ mine: "1", [UPPERDIR_LABEL]: upper });
    expect((await s.update(ctx, { name: "a", labels: { other: "2" } }, [])).labels).toEqual({ other: "2", [UPPERDIR_LABEL]: upper });
    for await (const info of s.walk(ctx, [])) expect(info.labels[UPPERDIR_LABEL]).toBe(upper);
    await s.commit(ctx, "A", "a");
    expect((await s.stat(ctx, "A")).labels).toEqual({ [UPPERDIR_LABEL]: upper });
  });
});

describe("overlay remove and cleanup", () => {
  it("with sync_remove, remove returns after the directory is gone", async () => {
    const h = await overlayHarness({ syncRemove: true });
    await commit(h, "base", "", { f: "x" });
    expect(await readdir(snapshotsDir(h))).toEqual(["1"]);
    await h.snapshotter.remove(ctx, "base");
    expect(await readdir(snapshotsDir(h))).toEqual([]);
  });

  it("without sync_remove, deletes in the background and close waits for it", async () => {
    const h = await overlayHarness();
    await commit(h, "base", "", { f: "x" });
    await h.snapshotter.remove(ctx, "base");
    await expect(h.snapshotter.stat(ctx, "base")).rejects.toSatisfy((e) => classOf(e) === "NotFound");
    await h.snapshotter.close();
    expect(await readdir(snapshotsDir(h))).toEqual([]);
  });

  it("cleanup running during creates leaves every created snapshot's directory", async () => {
    const h = await overlayHarness();
    // Each create renames its directory into place before its metadata commits; cleanups
    // running all the while must not take such a directory for an orphan.
    const creates = Array.from({ length: 8 }, (_, i) => h.snapshotter.prepare(ctx, `k${i}`, ""));
    let done = false;
    const created = Promise.all(creates).finally(() => (done = true));
    while (!done) await h.snapshotter.cleanup(ctx);
    await created;
    expect((await readdir(snapshotsDir(h))).sort()).toEqual(["1", "2", "3", "4", "5", "6", "7", "8"]);
  });

  it("removes what crashes leave: unfinished creates, removals and directories without metadata", async () => {
    const h = await overlayHarness();
    await commit(h, "base", "", { f: "x" });
    await h.snapshotter.prepare(ctx, "work", "base");
    await h.snapshotter.view(ctx, "look", "base");
    // A create that crashed before its transaction, a removal that crashed before its delete,
    // and an id whose metadata committed removal but whose directory was never moved.
    await mkdir(join(dir(h, "new-crashed"), "fs"), { recursive: true });
    await mkdir(join(dir(h, "rm-77"), "fs"), { recursive: true });
    await mkdir(join(dir(h, "99"), "fs"), { recursive: true });
    await writeFile(join(dir(h, "99"), "fs", "stale"), "s");
    await h.snapshotter.cleanup(ctx);
    expect((await readdir(snapshotsDir(h))).sort()).toEqual(["1", "2", "3"]);
    expect(await readFile(join(dir(h, "1"), "fs", "f"), "utf8")).toBe("x");
  });

  it("after a crash between a remove's transaction and its rename, cleanup deletes the directory", async () => {
    const h = await overlayHarness();
    await commit(h, "base", "", { f: "x" });
    await h.snapshotter.close();
    // What the crashed process had committed: the metadata is gone, the directory is not.
    const storage = await openSnapshotStorage(join(h.snapshotter.root, "metadata.lmdb"));
    await storage.write((tx) => tx.remove("base"));
    await storage.close();
    const reopened = await createOverlaySnapshotter(h.snapshotter.root);
    try {
      expect(await readdir(snapshotsDir(h))).toEqual(["1"]);
      await reopened.cleanup(ctx);
      expect(await readdir(snapshotsDir(h))).toEqual([]);
    } finally {
      await reopened.close();
    }
  });

  it("creates over an orphan left under a reused id, starting empty", async () => {
    const h = await overlayHarness();
    // A crash after the rename but before the commit left directory 1; id 1 is handed out again.
    await mkdir(join(dir(h, "1"), "fs"), { recursive: true });
    await writeFile(join(dir(h, "1"), "fs", "stale"), "s");
    const mounts = await h.snapshotter.prepare(ctx, "fresh", "");
    expect(mounts[0]!.source).toBe(join(dir(h, "1"), "fs"));
    expect(await readdir(join(dir(h, "1"), "fs"))).toEqual([]);
    await h.snapshotter.cleanup(ctx);
    expect(await readdir(snapshotsDir(h))).toEqual(["1"]);
  });
});

import { mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { classOf, isSkipPlugin } from "@berth/core";
import { mountAll, unmountAll } from "@berth/mount";
import { openSnapshotStorage } from "@berth/snapshot-storage";
import { createBtrfsSnapshotter, probeBtrfs } from "../src/index.js";
import { parseMountInfo, pathInFilesystem } from "../src/mountinfo.js";
import { btrfsHarness, ctx, useLoopBtrfs, type BtrfsHarness } from "./harness.js";
import { run } from "./host.js";

const loop = useLoopBtrfs();
const entries = async (h: BtrfsHarness) => (await readdir(join(h.snapshotter.root, "snapshots"))).sort();
const readOnly = async (path: string) => (await run("btrfs", ["property", "get", "-ts", path, "ro"])).trim();

async function commit(h: BtrfsHarness, name: string, parent: string, files: Record<string, string> = {}): Promise<void> {
  const mounts = await h.snapshotter.prepare(ctx, `${name}-a`, parent);
  const target = await h.mount(mounts);
  for (const [path, content] of Object.entries(files)) await writeFile(join(target, path), content);
  await h.unmount(target);
  await h.snapshotter.commit(ctx, name, `${name}-a`);
}

const tempDirs: string[] = [];
afterEach(async () => {
  const { rm } = await import("node:fs/promises");
  for (const d of tempDirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe("btrfs snapshotter", () => {
  it("skips itself, with the reason, on a root that is not btrfs", async () => {
    const dir = await mkdtemp(join(tmpdir(), "berth-btrfs-ext4-"));
    tempDirs.push(dir);
    const fsType = (await run("stat", ["-f", "-c", "%T", dir])).trim();
    expect(fsType).not.toBe("btrfs");
    const err = await createBtrfsSnapshotter(join(dir, "root")).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSkipPlugin(err)).toBe(true);
    const name = fsType === "ext2/ext3" ? "ext4" : fsType;
    expect((err as Error).message).toBe(`skip plugin: root ${join(dir, "root")} is not a btrfs filesystem (it is ${name})`);
  });

  it("mounts the device by subvolume path: writable for active snapshots, read-only for views", async () => {
    const h = await btrfsHarness(loop());
    const device = (await run("findmnt", ["-n", "-o", "SOURCE", loop().mountPoint])).trim();
    expect(h.snapshotter.device).toBe(device);
    const inFs = (p: string) => `/${p.slice(loop().mountPoint.length + 1)}`;
    const snapshots = join(h.snapshotter.root, "snapshots");
    expect(await h.snapshotter.prepare(ctx, "a", "")).toEqual([{ type: "btrfs", source: device, options: [`subvol=${inFs(join(snapshots, "active-1"))}`] }]);
    await h.snapshotter.commit(ctx, "A", "a");
    expect(await h.snapshotter.view(ctx, "v", "A")).toEqual([
      { type: "btrfs", source: device, options: [`subvol=${inFs(join(snapshots, "view-2"))}`, "ro"] },
    ]);
    expect(await entries(h)).toEqual(["committed-1", "view-2"]);
    expect(await readOnly(join(snapshots, "committed-1"))).toBe("ro=true");
    expect(await readOnly(join(snapshots, "view-2"))).toBe("ro=true");
    await h.snapshotter.view(ctx, "empty-view", "");
    expect(await readOnly(join(snapshots, "view-3"))).toBe("ro=true");
  });

  it("works on a root reached through a subvolume mounted elsewhere", async () => {
    const fs = loop();
    await run("btrfs", ["subvolume", "create", join(fs.mountPoint, "sub")]);
    const elsewhere = await mkdtemp(join(fs.dir, "sub-mount-"));
    const device = (await run("findmnt", ["-n", "-o", "SOURCE", fs.mountPoint])).trim();
    await run("mount", ["-t", "btrfs", "-o", "subvol=/sub", device, elsewhere]);
    const target = await mkdtemp(join(fs.dir, "target-"));
    try {
      const probe = await probeBtrfs(elsewhere);
      expect(probe.btrfs && probe.mount.root).toBe("/sub");
      const s = await createBtrfsSnapshotter(join(elsewhere, "root"));
      try {
        const mounts = await s.prepare(ctx, "a", "");
        expect(mounts[0]!.options).toEqual(["subvol=/sub/root/snapshots/active-1"]);
        await mountAll(mounts, target);
        await writeFile(join(target, "f"), "via subvol");
        await unmountAll(target);
        expect(await readFile(join(elsewhere, "root", "snapshots", "active-1", "f"), "utf8")).toBe("via subvol");
      } finally {
        await s.close();
      }
    } finally {
      await unmountAll(elsewhere);
    }
  });

  it("deletes the writable subvolume once a commit has its read-only snapshot", async () => {
    const h = await btrfsHarness(loop());
    await commit(h, "base", "", { f: "1" });
    await commit(h, "next", "base", { g: "2" });
    expect(await entries(h)).toEqual(["committed-1", "committed-2"]);
    await h.snapshotter.remove(ctx, "next");
    await h.snapshotter.remove(ctx, "base");
    expect(await entries(h)).toEqual([]);
  });

  it("refuses a parent at commit for a snapshot prepared without one: its subvolume is no copy of that parent", async () => {
    const h = await btrfsHarness(loop());
    await commit(h, "base", "", { f: "1" });
    await h.snapshotter.prepare(ctx, "loose", "");
    const err = await h.snapshotter.commit(ctx, "rebased", "loose", { parent: "base" }).catch((e: unknown) => e);
    expect(classOf(err)).toBe("InvalidArgument");
    expect((await h.snapshotter.stat(ctx, "loose")).kind).toBe("active");
  });

  it("removes what crashes leave: unfinished creates and commits, removals, subvolumes without metadata", async () => {
    const h = await btrfsHarness(loop());
    await commit(h, "base", "", { f: "x" });
    await h.snapshotter.prepare(ctx, "work", "base");
    const dir = (name: string) => join(h.snapshotter.root, "snapshots", name);
    // A create that crashed before its transaction; a commit that crashed before deleting the
    // writable subvolume (id 1 is committed now); a removal before its delete; a stray id.
    await run("btrfs", ["subvolume", "create", dir("new-0123")]);
    await run("btrfs", ["subvolume", "create", dir("active-1")]);
    await run("btrfs", ["subvolume", "snapshot", "-r", dir("committed-1"), dir("rm-77")]);
    await run("btrfs", ["subvolume", "create", dir("view-99")]);
    await mkdir(dir("plain-leftover"));
    await h.snapshotter.cleanup(ctx);
    expect(await entries(h)).toEqual(["active-2", "committed-1"]);
    const target = await h.mount(await h.snapshotter.mounts(ctx, "work"));
    expect(await readFile(join(target, "f"), "utf8")).toBe("x");
    await h.unmount(target);
  });

  it("after a crash between a remove's transaction and its rename, cleanup deletes the subvolume", async () => {
    const h = await btrfsHarness(loop());
    await commit(h, "base", "", { f: "x" });
    await h.snapshotter.close();
    const storage = await openSnapshotStorage(join(h.snapshotter.root, "metadata.lmdb"));
    await storage.write((tx) => tx.remove("base"));
    await storage.close();
    const reopened = await createBtrfsSnapshotter(h.snapshotter.root);
    try {
      expect(await entries(h)).toEqual(["committed-1"]);
      await reopened.cleanup(ctx);
      expect(await entries(h)).toEqual([]);
    } finally {
      await reopened.close();
    }
  });
});

describe("mountinfo", () => {
  it("decodes escaped paths and maps a path to its place in the filesystem", () => {
    const [m] = parseMountInfo("44 27 0:40 /sub\\040dir /mnt/my\\040disk rw,relatime shared:1 - btrfs /dev/loop0 rw,subvol=/sub\n");
    expect(m).toEqual({ root: "/sub dir", mountPoint: "/mnt/my disk", fsType: "btrfs", source: "/dev/loop0" });
    expect(pathInFilesystem(m!, "/mnt/my disk/a/b")).toBe("/sub dir/a/b");
    expect(pathInFilesystem({ ...m!, root: "/" }, "/mnt/my disk/a")).toBe("/a");
  });
});

import { execFile } from "node:child_process";
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Mount, OpContext, SnapshotInfo, SnapshotOptions, Snapshotter, SnapshotUsage } from "@berth/core";
import { diskUsage, openSnapshotStorage, placeNewSnapshot, toInfo } from "@berth/snapshot-storage";

const run = promisify(execFile);

/**
 * The simplest snapshotter that keeps containerd's contract: every snapshot is a plain
 * directory, and a new one starts as a full copy of its parent (containerd's "native"
 * snapshotter works the same way). Mounts are bind mounts, read-only for views. Metadata
 * (keys, parents, kinds, labels) lives in @berth/snapshot-storage, so this file is only the
 * filesystem part.
 */
export async function createCopySnapshotter(root: string): Promise<Snapshotter> {
  const snapshots = join(root, "snapshots");
  await mkdir(snapshots, { recursive: true, mode: 0o700 });
  const storage = await openSnapshotStorage(join(root, "metadata.lmdb"));
  const dirOf = (id: number) => join(snapshots, String(id));
  const bind = (id: number, readonly: boolean): Mount[] => [{ type: "bind", source: dirOf(id), options: [readonly ? "ro" : "rw", "rbind"] }];

  async function create(kind: "active" | "view", key: string, parent: string, opts?: SnapshotOptions): Promise<Mount[]> {
    const [parentId] = storage.read((tx) => tx.checkCreate(key, parent, opts)); // refuse before copying
    // Built beside the final place, then renamed in the same transaction as the metadata.
    const temp = join(root, `new-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
    try {
      if (parentId === undefined) await mkdir(temp, { mode: 0o755 });
      else await run("cp", ["-a", "--reflink=auto", dirOf(parentId), temp]);
      const chain = await storage.write((tx) => {
        const created = tx.create(kind, key, parent, opts);
        placeNewSnapshot(temp, dirOf(created.id));
        return created;
      });
      return bind(chain.id, kind === "view");
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  }

  /**
   * A snapshot's own share: its directory holds a full copy of its parent, so the parent's
   * size is taken off (containerd counts a layer's own bytes, not its parents').
   */
  async function layerUsage(id: number, parent: string): Promise<SnapshotUsage> {
    const own = await diskUsage(dirOf(id));
    if (parent === "") return own;
    const base = await diskUsage(dirOf(storage.read((tx) => tx.get(parent)).id));
    return { size: Math.max(0, own.size - base.size), inodes: Math.max(0, own.inodes - base.inodes) };
  }

  async function* walk(_ctx: OpContext, filters: readonly string[]): AsyncIterable<SnapshotInfo> {
    for (const s of storage.read((tx) => tx.walk(filters))) yield toInfo(s);
  }

  return {
    stat: async (_ctx, key) => toInfo(storage.read((tx) => tx.get(key))),
    update: async (_ctx, info, fieldpaths) => toInfo(await storage.write((tx) => tx.update(info, fieldpaths))),
    usage: async (_ctx, key) => {
      const s = storage.read((tx) => tx.get(key));
      return s.kind === "committed" ? s.usage : layerUsage(s.id, s.parent);
    },
    mounts: async (_ctx, key) => {
      const chain = storage.read((tx) => tx.chain(key));
      return bind(chain.id, chain.kind === "view");
    },
    prepare: (_ctx, key, parent, opts) => create("active", key, parent, opts),
    view: (_ctx, key, parent, opts) => create("view", key, parent, opts),
    commit: async (_ctx, name, key, opts) => {
      const active = storage.read((tx) => tx.checkCommit(key, name, opts));
      const usage = await layerUsage(active.id, active.parent);
      await storage.write((tx) => tx.commit(key, name, usage, opts));
    },
    remove: async (_ctx, key) => {
      const removed = await storage.write((tx) => tx.remove(key));
      await rm(dirOf(removed.id), { recursive: true, force: true });
    },
    walk,
    cleanup: async () => {
      const kept = storage.read((tx) => tx.byId());
      for (const name of await readdir(snapshots)) {
        if (!kept.has(Number(name))) await rm(join(snapshots, name), { recursive: true, force: true });
      }
    },
    close: () => storage.close(),
  };
}

import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { BigIntStats } from "node:fs";
import type { SnapshotUsage } from "@berth/core";

/**
 * What a snapshot's own layer takes: entries of `tree` that are new or changed relative to
 * `parent` (the subvolume it was snapshotted from), counted as diskUsage counts them
 * (st_blocks × 512, each inode once). A btrfs snapshot keeps inode numbers and ctimes, so an
 * entry with the same inode and ctime as the parent's at the same path is the parent's, not
 * this layer's. Without a parent, everything counts.
 */
export async function layerUsage(tree: string, parent: string | undefined, signal?: AbortSignal): Promise<SnapshotUsage> {
  const seen = new Set<bigint>();
  let size = 0n;
  const inherited = async (rel: string, st: BigIntStats): Promise<boolean> => {
    if (parent === undefined) return false;
    const before = await lstat(join(parent, rel), { bigint: true }).catch(() => undefined);
    return before !== undefined && before.ino === st.ino && before.ctimeNs === st.ctimeNs;
  };
  const count = async (rel: string): Promise<boolean> => {
    const st = await lstat(join(tree, rel), { bigint: true });
    if (!seen.has(st.ino) && !(await inherited(rel, st))) {
      seen.add(st.ino);
      size += st.blocks * 512n;
    }
    return st.isDirectory();
  };
  const visit = async (rel: string): Promise<void> => {
    signal?.throwIfAborted();
    const paths = (await readdir(join(tree, rel))).map((n) => (rel === "" ? n : join(rel, n)));
    const isDir = await Promise.all(paths.map(count));
    for (let i = 0; i < paths.length; i++) if (isDir[i]) await visit(paths[i]!);
  };
  if (await count("")) await visit("");
  return { size: Number(size), inodes: seen.size };
}

import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { SnapshotUsage } from "@berth/core";

/**
 * What the tree at `root` takes on disk, as containerd counts it: bytes allocated
 * (st_blocks × 512, so sparse files count what they use) and inodes, each hardlinked inode
 * once, the root directory included. Backends use it for their snapshots' own layers.
 */
export async function diskUsage(root: string, signal?: AbortSignal): Promise<SnapshotUsage> {
  const seen = new Set<bigint>();
  let size = 0n;
  const count = async (path: string): Promise<boolean> => {
    const st = await lstat(path, { bigint: true });
    if (!seen.has(st.ino)) {
      seen.add(st.ino);
      size += st.blocks * 512n;
    }
    return st.isDirectory();
  };
  const visit = async (dir: string): Promise<void> => {
    signal?.throwIfAborted();
    const names = await readdir(dir);
    const paths = names.map((n) => join(dir, n));
    // One directory's entries at a time, concurrently: the thread pool stays busy, memory stays flat.
    const isDir = await Promise.all(paths.map(count));
    for (let i = 0; i < paths.length; i++) if (isDir[i]) await visit(paths[i]!);
  };
  if (await count(root)) await visit(root);
  return { size: Number(size), inodes: seen.size };
}

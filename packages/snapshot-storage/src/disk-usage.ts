import { diskUsage as treeUsage } from "@berth/native";
import type { SnapshotUsage } from "@berth/core";

/**
 * What the tree at `root` takes on disk, as containerd counts it: bytes allocated
 * (st_blocks × 512, so sparse files count what they use) and inodes, each hardlinked inode
 * once, the root directory included. Backends use it for their snapshots' own layers.
 *
 * The walk is one thread-pool job of the native addon. It used to run on the event loop in
 * slices (an lstat per thread-pool job waited behind the layers applying meanwhile: 370 ms
 * for 6 000 inodes); in slices it still cost a pull ~45 ms of the main thread in lstat and
 * a Buffer and a Stats object per entry for the garbage collector.
 */
export async function diskUsage(root: string, signal?: AbortSignal): Promise<SnapshotUsage> {
  signal?.throwIfAborted();
  const usage = await treeUsage(root);
  signal?.throwIfAborted();
  return usage;
}

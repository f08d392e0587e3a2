import { isNotFound, type OpContext, type Snapshotter } from "@berth/core";

export interface FsUsage {
  readonly usedBytes: number;
  readonly inodesUsed: number;
}

/**
 * What the CRI's snapshots take: the sum of every snapshot's own usage in its namespace, as
 * containerd's CRI reports for ImageFsInfo. Snapshots removed during the walk are skipped.
 */
export async function snapshotterUsage(snapshotter: Snapshotter, ctx: OpContext): Promise<FsUsage> {
  let usedBytes = 0;
  let inodesUsed = 0;
  for await (const info of snapshotter.walk(ctx, [])) {
    try {
      const usage = await snapshotter.usage(ctx, info.name);
      usedBytes += usage.size;
      inodesUsed += usage.inodes;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  return { usedBytes, inodesUsed };
}

import { join } from "node:path";
import type { SnapshotKind } from "@berth/core";

/**
 * Where a btrfs snapshotter keeps things under its root. Every subvolume sits in the one
 * `snapshots` directory because a read-only subvolume can be renamed within its directory but
 * never moved to another (its ".." would change):
 *
 *   metadata.lmdb                  the snapshot store (@berth/snapshot-storage)
 *   snapshots/active-<id>          writable subvolume of an active snapshot
 *   snapshots/view-<id>            read-only snapshot of the parent (or empty), for a view
 *   snapshots/committed-<id>       read-only snapshot of a committed layer
 *   snapshots/new-*                being created (renamed in its transaction)
 *   snapshots/rm-<id>, orphan-*    being deleted, or left by a crash (cleanup deletes them)
 */
export class BtrfsLayout {
  readonly snapshots: string;
  readonly metadata: string;

  constructor(readonly root: string) {
    this.snapshots = join(root, "snapshots");
    this.metadata = join(root, "metadata.lmdb");
  }

  static entryName = (kind: SnapshotKind, id: number): string => `${kind}-${id}`;

  subvolume = (kind: SnapshotKind, id: number): string => join(this.snapshots, BtrfsLayout.entryName(kind, id));
  entry = (name: string): string => join(this.snapshots, name);
  removal = (id: number): string => join(this.snapshots, `rm-${id}`);
}

export const TEMP_PREFIX = "new-";

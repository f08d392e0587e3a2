import { join } from "node:path";

/**
 * Where an overlay snapshotter keeps things under its root:
 *
 *   metadata.lmdb            the snapshot store (@berth/snapshot-storage)
 *   snapshots/<id>/fs        the snapshot's own layer: an upperdir, or a lowerdir for its children
 *   snapshots/<id>/work      overlay's workdir (active snapshots only)
 *   snapshots/new-*          a snapshot being created (renamed to <id> in its transaction)
 *   snapshots/rm-<id>        a snapshot being deleted (renamed away after its transaction)
 *
 * Paths stay short on purpose: every parent's fs path goes into one lowerdir option.
 */
export class OverlayLayout {
  readonly snapshots: string;
  readonly metadata: string;

  constructor(readonly root: string) {
    this.snapshots = join(root, "snapshots");
    this.metadata = join(root, "metadata.lmdb");
  }

  dir = (id: number | string): string => join(this.snapshots, String(id));
  upper = (id: number): string => join(this.snapshots, String(id), "fs");
  work = (id: number): string => join(this.snapshots, String(id), "work");
  removal = (id: number): string => join(this.snapshots, `rm-${id}`);
}

export const TEMP_PREFIX = "new-";

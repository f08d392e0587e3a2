import type { RemovedRecords } from "@berth/core";
import type { WriteTx } from "./db.js";
import type { DirtyBackends } from "./mutation-log.js";
import { nodeId, recordKey, type GcNode } from "./gc-graph.js";
import { leaseResourcesPrefix, snapshotChildKey } from "./keys.js";
import type { IngestRecord, SnapshotRecord } from "./records.js";

export interface SweptRecords {
  readonly counts: RemovedRecords;
  /** Backends that may now hold data no record names. */
  readonly dirty: DirtyBackends;
  /** What went, by kind, for events and logs. */
  readonly images: readonly { ns: string; name: string }[];
  readonly snapshots: readonly { ns: string; snapshotter: string; key: string }[];
}

/**
 * Removes, inside the sweep transaction, every candidate the marker left white that still
 * exists, with what hangs off its record (a lease's resource entries, a snapshot's entry in
 * its parent's child index). A white snapshot's children are white too (a child references
 * its parent), so no surviving snapshot is left pointing at a removed one. Reports the
 * backends the removals may have left data in, for the backend phase.
 */
export function sweepRecords(tx: WriteTx, candidates: readonly GcNode[], black: ReadonlySet<string>): SweptRecords {
  const counts = { images: 0, leases: 0, content: 0, ingests: 0, snapshots: 0 };
  const images: { ns: string; name: string }[] = [];
  const snapshots: { ns: string; snapshotter: string; key: string }[] = [];
  const blobs = new Set<string>();
  let ingests = false;
  const snapshotters = new Set<string>();
  for (const n of candidates) {
    if (black.has(nodeId(n))) continue;
    const key = recordKey(n);
    const record = tx.get<unknown>(key);
    // Deleted meanwhile by its owner: nothing left to do.
    if (record === undefined) continue;
    tx.remove(key);
    switch (n.kind) {
      case "image":
        counts.images++;
        images.push({ ns: n.ns, name: n.key });
        break;
      case "lease":
        tx.removeAll(leaseResourcesPrefix(n.ns, n.key));
        counts.leases++;
        break;
      case "content":
        blobs.add(n.key);
        counts.content++;
        break;
      case "ingest": {
        ingests = true;
        const { shared } = record as IngestRecord;
        if (shared) blobs.add(shared.digest);
        counts.ingests++;
        break;
      }
      case "snapshot": {
        const { parent } = record as SnapshotRecord;
        if (parent !== "") tx.remove(snapshotChildKey(n.ns, n.snapshotter, parent, n.key));
        snapshotters.add(n.snapshotter);
        counts.snapshots++;
        snapshots.push({ ns: n.ns, snapshotter: n.snapshotter, key: n.key });
        break;
      }
      case "container":
        break;
    }
  }
  return { counts, dirty: { blobs, ingests, snapshotters }, images, snapshots };
}

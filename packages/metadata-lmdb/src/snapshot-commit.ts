import type { ReadTx, WriteTx } from "./db.js";
import { leaseKey, leaseResourceKey, snapshotChildKey, snapshotKey } from "./keys.js";
import type { SnapshotRecord } from "./records.js";

/**
 * The two ways a commit ends, each one transaction. A commit first writes the committed
 * record marked `pending` (and marks the active one `committingTo`), then asks the backend,
 * then settles here: `finishCommit` after the backend committed, `abandonCommit` after it
 * refused. A crash in between leaves the marks for the next open to settle (snapshot-recovery.ts),
 * so no record ever names a backend snapshot that is not what the record says.
 */

/** The lease resource type of a snapshotter's snapshots, as containerd names it. */
export const snapshotResourceType = (snapshotter: string): string => `snapshots/${snapshotter}`;

/** A record readers may see: present and not a commit still in flight. */
export function visibleSnapshot(tx: ReadTx, ns: string, snapshotter: string, key: string): SnapshotRecord | undefined {
  const record = tx.get<SnapshotRecord>(snapshotKey(ns, snapshotter, key));
  return record && !record.pending ? record : undefined;
}

/** The active record leaves, the committed one becomes visible, and the lease follows the name. */
export function finishCommit(tx: WriteTx, ns: string, snapshotter: string, name: string): void {
  const record = tx.get<SnapshotRecord>(snapshotKey(ns, snapshotter, name));
  if (!record?.pending) return;
  const { fromKey, lease } = record.pending;
  const from = tx.get<SnapshotRecord>(snapshotKey(ns, snapshotter, fromKey));
  if (from?.committingTo === name) {
    tx.remove(snapshotKey(ns, snapshotter, fromKey));
    if (from.parent !== "") tx.remove(snapshotChildKey(ns, snapshotter, from.parent, fromKey));
  }
  if (lease) {
    const type = snapshotResourceType(snapshotter);
    tx.remove(leaseResourceKey(ns, lease, type, fromKey));
    // The lease may have been deleted meanwhile; the commit stands either way.
    if (tx.has(leaseKey(ns, lease))) tx.put(leaseResourceKey(ns, lease, type, name), true);
  }
  tx.put(snapshotKey(ns, snapshotter, name), withoutMarks(record));
}

/** The committed record goes, the active one is as it was before the commit. */
export function abandonCommit(tx: WriteTx, ns: string, snapshotter: string, name: string): void {
  const record = tx.get<SnapshotRecord>(snapshotKey(ns, snapshotter, name));
  if (!record?.pending) return;
  tx.remove(snapshotKey(ns, snapshotter, name));
  if (record.parent !== "") tx.remove(snapshotChildKey(ns, snapshotter, record.parent, name));
  const from = tx.get<SnapshotRecord>(snapshotKey(ns, snapshotter, record.pending.fromKey));
  if (from?.committingTo === name) tx.put(snapshotKey(ns, snapshotter, record.pending.fromKey), withoutMarks(from));
}

function withoutMarks(record: SnapshotRecord): SnapshotRecord {
  const { backendKey, parent, kind, labels, createdAt, updatedAt } = record;
  return { backendKey, parent, kind, labels, createdAt, updatedAt };
}

import type { ReadSnapshot, ReadTx } from "./db.js";
import { GC_FLAT_LABEL, hasExpired, isLabelledRoot, labelRefs, labelValue } from "./gc-labels.js";
import { blobKey, containerKey, imageKey, ingestKey, leaseKey, leaseResourcesPrefix, snapshotKey, type Key } from "./keys.js";
import type { Pairs } from "./maps.js";
import type { BlobRecord, ContainerRecord, ImageRecord, IngestRecord, LeaseRecord, SnapshotRecord } from "./records.js";

/**
 * The object graph the collector walks, read straight from the key layout (keys.ts). A node
 * is one namespaced object; a "flat" node is one held by a lease labelled containerd.io/gc.flat,
 * which keeps the object but not what its labels reference.
 */
export type NodeKind = "image" | "container" | "lease" | "content" | "ingest" | "snapshot";

export interface GcNode {
  readonly kind: NodeKind;
  readonly ns: string;
  /** Image name, container or lease ID, digest, ingest ref, snapshot key. */
  readonly key: string;
  /** The snapshotter of a snapshot; "" otherwise. */
  readonly snapshotter: string;
  readonly flat: boolean;
}

export const node = (kind: NodeKind, ns: string, key: string, snapshotter = "", flat = false): GcNode => ({
  kind,
  ns,
  key,
  snapshotter,
  flat,
});

/** The object's identity, whether reached flat or not. The free-form key goes last, so this never collides. */
export const nodeId = (n: GcNode): string => `${n.kind}|${n.ns}|${n.snapshotter}|${n.key}`;

/** Identity plus flatness: a node reached both ways is walked both ways. */
export const visitId = (n: GcNode): string => (n.flat ? "f" : "n") + nodeId(n);

/** The record key of a node. */
export function recordKey(n: GcNode): Key {
  switch (n.kind) {
    case "image":
      return imageKey(n.ns, n.key);
    case "container":
      return containerKey(n.ns, n.key);
    case "lease":
      return leaseKey(n.ns, n.key);
    case "content":
      return blobKey(n.ns, n.key);
    case "ingest":
      return ingestKey(n.ns, n.key);
    case "snapshot":
      return snapshotKey(n.ns, n.snapshotter, n.key);
  }
}

/**
 * The node a stored key belongs to (a lease's resource entries belong to the lease), or
 * undefined for keys that are no object (namespaces, sequences, the snapshot child index).
 */
export function nodeOfKey(key: Key): GcNode | undefined {
  if (key[0] !== "ns" || typeof key[1] !== "string") return undefined;
  const ns = key[1];
  const [, , type, a, b] = key.map(String);
  switch (type) {
    case "images":
      return a === undefined ? undefined : node("image", ns, a);
    case "containers":
      return a === undefined ? undefined : node("container", ns, a);
    case "leases":
    case "lease-resources":
      return a === undefined ? undefined : node("lease", ns, a);
    case "content":
      if (b === undefined) return undefined;
      if (a === "blob") return node("content", ns, b);
      if (a === "ingests") return node("ingest", ns, b);
      return undefined;
    case "snapshots":
      return a === undefined || b === undefined ? undefined : node("snapshot", ns, b, a);
    default:
      return undefined;
  }
}

/** A lease that names an expiry before `now`: no longer a root, and removed by the sweep. */
export const isExpiredLease = (record: LeaseRecord, now: number): boolean => hasExpired(record.labels, now);

/**
 * Whether the stored object at `n` is a root by itself. Containers always are; leases and
 * images unless they expired (an expired image stays while something references it); content
 * and snapshots when labelled so (gc-labels.ts); ingests while their expiry is ahead (a leased
 * ingest has none: its lease holds it); a snapshot in the middle of a commit, whose two records
 * the commit protocol settles (snapshot-commit.ts).
 */
export function isRoot(n: GcNode, value: unknown, now: number): boolean {
  switch (n.kind) {
    case "container":
      return true;
    case "lease":
      return !isExpiredLease(value as LeaseRecord, now);
    case "image":
      return !hasExpired((value as ImageRecord).labels, now);
    case "content":
      return isLabelledRoot((value as BlobRecord).labels, now);
    case "ingest": {
      const expireAt = (value as IngestRecord).expireAt;
      return expireAt !== undefined && expireAt.getTime() >= now;
    }
    case "snapshot": {
      const record = value as SnapshotRecord;
      return record.pending !== undefined || record.committingTo !== undefined || isLabelledRoot(record.labels, now);
    }
  }
}

/** Entries under `prefix`, lazily when the reader can (a lease may hold thousands of resources). */
function entriesUnder(reader: ReadTx, prefix: Key): Iterable<{ readonly key: Key }> {
  return "entries" in reader ? (reader as ReadSnapshot).entries(prefix) : reader.list(prefix);
}

function* fromLabels(ns: string, labels: Pairs): Generator<GcNode> {
  for (const ref of labelRefs(labels)) {
    yield ref.kind === "snapshot" ? node("snapshot", ns, ref.key, ref.snapshotter) : node(ref.kind, ns, ref.key);
  }
}

/** The nodes `n` references, read from `reader`; none when its record is gone (an edge to nothing). */
export function* references(reader: ReadTx, n: GcNode): Generator<GcNode> {
  const { ns } = n;
  switch (n.kind) {
    case "image": {
      const record = reader.get<ImageRecord>(imageKey(ns, n.key));
      if (!record) return;
      yield node("content", ns, record.target.digest, "", n.flat);
      if (!n.flat) yield* fromLabels(ns, record.labels);
      return;
    }
    case "container": {
      const record = reader.get<ContainerRecord>(containerKey(ns, n.key));
      if (!record) return;
      if (record.snapshotter !== "" && record.snapshotKey !== "") yield node("snapshot", ns, record.snapshotKey, record.snapshotter);
      yield* fromLabels(ns, record.labels);
      return;
    }
    case "lease": {
      const record = reader.get<LeaseRecord>(leaseKey(ns, n.key));
      if (!record) return;
      const flat = labelValue(record.labels, GC_FLAT_LABEL) !== undefined;
      for (const { key } of entriesUnder(reader, leaseResourcesPrefix(ns, n.key))) {
        const type = String(key[4]);
        const id = String(key[5]);
        if (type === "content") yield node("content", ns, id, "", flat);
        else if (type === "images") yield node("image", ns, id, "", flat);
        else if (type === "ingests") yield node("ingest", ns, id);
        else if (type.startsWith("snapshots/")) yield node("snapshot", ns, id, type.slice("snapshots/".length), flat);
      }
      return;
    }
    case "content": {
      const record = reader.get<BlobRecord>(blobKey(ns, n.key));
      if (record && !n.flat) yield* fromLabels(ns, record.labels);
      return;
    }
    case "ingest": {
      // A shared ingest's blob belongs to another namespace until commit: keep it here meanwhile.
      const shared = reader.get<IngestRecord>(ingestKey(ns, n.key))?.shared;
      if (shared) yield node("content", ns, shared.digest);
      return;
    }
    case "snapshot": {
      const record = reader.get<SnapshotRecord>(snapshotKey(ns, n.snapshotter, n.key));
      if (!record) return;
      if (record.parent !== "") yield node("snapshot", ns, record.parent, n.snapshotter, n.flat);
      if (!n.flat) yield* fromLabels(ns, record.labels);
      return;
    }
  }
}

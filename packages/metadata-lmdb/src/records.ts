import type { ContentInfo, SnapshotKind, TypedValue } from "@berth/core";
import { fromPairs, type Pairs } from "./maps.js";

/**
 * What is stored under each key (keys.ts). Names and IDs are in the key, not repeated here.
 * Fields only ever get added to these shapes; anything else needs a migration.
 */

export interface NamespaceRecord {
  readonly labels: Pairs;
}

export interface ImageRecord {
  readonly labels: Pairs;
  readonly target: {
    readonly mediaType: string;
    readonly digest: string;
    readonly size: number;
    readonly annotations?: Pairs;
  };
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface ContainerRecord {
  readonly labels: Pairs;
  readonly image: string;
  readonly runtime: { readonly name: string; readonly options?: TypedValue };
  readonly spec?: TypedValue;
  readonly snapshotter: string;
  readonly snapshotKey: string;
  readonly extensions: Pairs<TypedValue>;
  readonly sandbox: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** A namespace's ownership of a backend blob, with that namespace's labels for it. */
export interface BlobRecord {
  readonly size: number;
  readonly labels: Pairs;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** A namespace's ingest: the client's ref maps to `backendRef` in the backend store. */
export interface IngestRecord {
  readonly backendRef: string;
  readonly startedAt: Date;
  /** When not leased: after this the ingest may be cleaned up (containerd: 24 h). */
  readonly expireAt?: Date;
  /**
   * Set for an ingest satisfied by a blob another namespace committed: nothing is uploaded,
   * commit only records ownership. Keeps that blob referenced until then.
   */
  readonly shared?: { readonly digest: string; readonly size: number };
}

export interface LeaseRecord {
  readonly labels: Pairs;
  readonly createdAt: Date;
}

/**
 * A namespace's snapshot: the caller's key (or committed name) maps to `backendKey` in the
 * backend snapshotter, `<namespace>/<seq>/<key>`, unique across namespaces and reuses.
 */
export interface SnapshotRecord {
  readonly backendKey: string;
  /** The parent's name in the same namespace; "" for none. */
  readonly parent: string;
  readonly kind: SnapshotKind;
  readonly labels: Pairs;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /**
   * On a committed record whose backend commit may not have happened yet: the active key it
   * is being committed from, and the lease to move into. Invisible to readers until cleared;
   * a store opened after a crash settles it by asking the backend (snapshot-recovery.ts).
   */
  readonly pending?: { readonly fromKey: string; readonly lease?: string };
  /** On an active record while it is being committed: the name it is becoming. */
  readonly committingTo?: string;
}

/** msgpack hands byte strings back as Buffers over lmdb's memory; give callers their own copy. */
export function copyTypedValue(value: TypedValue): TypedValue {
  return { typeUrl: value.typeUrl, value: new Uint8Array(value.value) };
}

export const toContentInfo = (digest: string, r: BlobRecord): ContentInfo => ({
  digest,
  size: r.size,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
  labels: fromPairs(r.labels),
});

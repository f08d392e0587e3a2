import type { SnapshotInfo, SnapshotKind, SnapshotUsage } from "@berth/core";

/**
 * A snapshot as the store keeps it: what clients see (SnapshotInfo) plus the numeric id a
 * backend names its files by, and the usage recorded when it was committed.
 */
export interface StoredSnapshot extends SnapshotInfo {
  /** Allocated once, never reused, kept through commit: the backend's directory name. */
  readonly id: number;
  /** Recorded by commit for committed snapshots; zero for active ones and views. */
  readonly usage: SnapshotUsage;
}

/** What a backend needs to build mounts: the snapshot's id and kind and its parents' ids. */
export interface SnapshotChain {
  readonly id: number;
  readonly kind: SnapshotKind;
  /** Ids of the parent chain, nearest first; empty for a snapshot with no parent. */
  readonly parentIds: readonly number[];
}

/** The stored value under a snapshot's key (its name is the key itself). */
export interface SnapshotRecord {
  readonly id: number;
  readonly kind: SnapshotKind;
  readonly parent: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly size: number;
  readonly inodes: number;
}

export const ZERO_USAGE: SnapshotUsage = Object.freeze({ size: 0, inodes: 0 });

export function toStored(name: string, r: SnapshotRecord): StoredSnapshot {
  return {
    id: r.id,
    kind: r.kind,
    name,
    parent: r.parent,
    labels: { ...r.labels },
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    usage: { size: r.size, inodes: r.inodes },
  };
}

/** Just the client-visible part, so stat and walk answers compare equal whatever the store adds. */
export function toInfo(s: StoredSnapshot): SnapshotInfo {
  return {
    kind: s.kind,
    name: s.name,
    parent: s.parent,
    labels: s.labels,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}

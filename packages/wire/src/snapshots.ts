// containerd.services.snapshots.v1 messages <-> core's SnapshotInfo, SnapshotKind and SnapshotUsage.
import { snapshotsApi } from "@berth/api";
import { invalidArgument, type SnapshotInfo, type SnapshotKind, type SnapshotUsage } from "@berth/core";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { dateFromWire } from "./scalars.js";

export type SnapshotInfoOut = MessageInitShape<typeof snapshotsApi.InfoSchema>;
export type UsageOut = MessageInitShape<typeof snapshotsApi.UsageResponseSchema>;

const KIND_TO_WIRE: Readonly<Record<SnapshotKind, snapshotsApi.Kind>> = {
  view: snapshotsApi.Kind.VIEW,
  active: snapshotsApi.Kind.ACTIVE,
  committed: snapshotsApi.Kind.COMMITTED,
};

export const kindToWire = (kind: SnapshotKind): snapshotsApi.Kind => KIND_TO_WIRE[kind];

export function kindFromWire(kind: snapshotsApi.Kind): SnapshotKind {
  switch (kind) {
    case snapshotsApi.Kind.VIEW:
      return "view";
    case snapshotsApi.Kind.ACTIVE:
      return "active";
    case snapshotsApi.Kind.COMMITTED:
      return "committed";
    default:
      throw invalidArgument(`unknown snapshot kind ${kind}`);
  }
}

export function snapshotInfoToWire(info: SnapshotInfo): SnapshotInfoOut {
  return {
    name: info.name,
    parent: info.parent,
    kind: kindToWire(info.kind),
    createdAt: timestampFromDate(info.createdAt),
    updatedAt: timestampFromDate(info.updatedAt),
    labels: { ...info.labels },
  };
}

export function snapshotInfoFromWire(info: snapshotsApi.Info): SnapshotInfo {
  return {
    kind: kindFromWire(info.kind),
    name: info.name,
    parent: info.parent,
    labels: { ...info.labels },
    createdAt: dateFromWire(info.createdAt),
    updatedAt: dateFromWire(info.updatedAt),
  };
}

/** What an Update request may change: the snapshot it names and its labels (kind, parent and times are not updatable). */
export function snapshotUpdateFromWire(info: snapshotsApi.Info): Pick<SnapshotInfo, "name" | "labels"> {
  return { name: info.name, labels: { ...info.labels } };
}

export function usageToWire(usage: SnapshotUsage): UsageOut {
  return { size: BigInt(usage.size), inodes: BigInt(usage.inodes) };
}

export function usageFromWire(usage: { size: bigint; inodes: bigint }): SnapshotUsage {
  return { size: Number(usage.size), inodes: Number(usage.inodes) };
}

// containerd.services.snapshots.v1 messages and containerd.types.Mount <-> core's SnapshotInfo,
// SnapshotUsage and Mount.
import { snapshotsApi, type types } from "@berth/api";
import { invalidArgument, type Mount, type SnapshotInfo, type SnapshotKind, type SnapshotUsage } from "@berth/core";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";

export type SnapshotInfoOut = MessageInitShape<typeof snapshotsApi.InfoSchema>;
export type UsageOut = MessageInitShape<typeof snapshotsApi.UsageResponseSchema>;
export type MountOut = MessageInitShape<typeof types.MountSchema>;

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

/** What an Update request may change: the snapshot it names and its labels (kind, parent and times are not updatable). */
export function snapshotUpdateFromWire(info: snapshotsApi.Info): Pick<SnapshotInfo, "name" | "labels"> {
  return { name: info.name, labels: { ...info.labels } };
}

export function usageToWire(usage: SnapshotUsage): UsageOut {
  return { size: BigInt(usage.size), inodes: BigInt(usage.inodes) };
}

export function mountToWire(mount: Mount): MountOut {
  return { type: mount.type, source: mount.source, target: mount.target ?? "", options: [...mount.options] };
}

export const mountsToWire = (mounts: readonly Mount[]): MountOut[] => mounts.map(mountToWire);

export function mountFromWire(mount: types.Mount): Mount {
  const out = { type: mount.type, source: mount.source, options: [...mount.options] };
  return mount.target === "" ? out : { ...out, target: mount.target };
}

export const mountsFromWire = (mounts: readonly types.Mount[]): Mount[] => mounts.map(mountFromWire);

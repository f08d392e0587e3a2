// Client-side conversions between containerd's wire messages and core's records: the mirror
// of what @berth/services does on the server side.
import { contentApi, snapshotsApi, type types } from "@berth/api";
import { invalidArgument, type ContentInfo, type Descriptor, type IngestStatus, type Mount, type SnapshotInfo, type SnapshotKind } from "@berth/core";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";

type MountIn = MessageInitShape<typeof types.MountSchema>;
type DescriptorIn = MessageInitShape<typeof types.DescriptorSchema>;

const EPOCH = new Date(0);
const dateOf = (ts: Timestamp | undefined): Date => (ts ? timestampDate(ts) : EPOCH);

export const mountsToWire = (mounts: readonly Mount[]): MountIn[] =>
  mounts.map((m) => ({ type: m.type, source: m.source, target: m.target ?? "", options: [...m.options] }));

export const mountsFromWire = (mounts: readonly types.Mount[]): Mount[] =>
  mounts.map((m) => (m.target === "" ? { type: m.type, source: m.source, options: [...m.options] } : { type: m.type, source: m.source, target: m.target, options: [...m.options] }));

export function kindFromWire(kind: snapshotsApi.Kind): SnapshotKind {
  switch (kind) {
    case snapshotsApi.Kind.VIEW:
      return "view";
    case snapshotsApi.Kind.ACTIVE:
      return "active";
    case snapshotsApi.Kind.COMMITTED:
      return "committed";
    default:
      throw invalidArgument(`proxy answered an unknown snapshot kind ${kind}`);
  }
}

export function snapshotInfoFromWire(info: snapshotsApi.Info | undefined): SnapshotInfo {
  if (!info) throw invalidArgument("proxy answered without a snapshot info");
  return {
    kind: kindFromWire(info.kind),
    name: info.name,
    parent: info.parent,
    labels: { ...info.labels },
    createdAt: dateOf(info.createdAt),
    updatedAt: dateOf(info.updatedAt),
  };
}

/** Update masks as containerd's clients send them; none for "replace everything updatable". */
export const updateMask = (fieldpaths: readonly string[]) => (fieldpaths.length > 0 ? { paths: [...fieldpaths] } : undefined);

export function contentInfoFromWire(info: contentApi.Info | undefined): ContentInfo {
  if (!info) throw invalidArgument("proxy answered without a content info");
  return {
    digest: info.digest,
    size: Number(info.size),
    labels: { ...info.labels },
    createdAt: dateOf(info.createdAt),
    updatedAt: dateOf(info.updatedAt),
  };
}

export function ingestStatusFromWire(status: contentApi.Status | undefined): IngestStatus {
  if (!status) throw invalidArgument("proxy answered without an ingest status");
  return {
    ref: status.ref,
    offset: Number(status.offset),
    total: Number(status.total),
    expected: status.expected,
    startedAt: dateOf(status.startedAt),
    updatedAt: dateOf(status.updatedAt),
  };
}

export const descriptorToWire = (desc: Descriptor): DescriptorIn => ({
  mediaType: desc.mediaType,
  digest: desc.digest,
  size: BigInt(desc.size),
  annotations: { ...desc.annotations },
});

export function descriptorFromWire(desc: types.Descriptor | undefined): Descriptor {
  if (!desc) throw invalidArgument("proxy answered without a descriptor");
  const out = { mediaType: desc.mediaType, digest: desc.digest, size: Number(desc.size) };
  return Object.keys(desc.annotations).length > 0 ? { ...out, annotations: { ...desc.annotations } } : out;
}

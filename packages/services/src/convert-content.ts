// containerd.services.content.v1 messages <-> core's ContentInfo and IngestStatus.
import type { contentApi } from "@berth/api";
import type { ContentInfo, IngestStatus } from "@berth/core";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";

export type InfoOut = MessageInitShape<typeof contentApi.InfoSchema>;
export type StatusOut = MessageInitShape<typeof contentApi.StatusSchema>;

export function infoToWire(info: ContentInfo): InfoOut {
  return {
    digest: info.digest,
    size: BigInt(info.size),
    createdAt: timestampFromDate(info.createdAt),
    updatedAt: timestampFromDate(info.updatedAt),
    labels: { ...info.labels },
  };
}

/** What an Update request may change: the digest it names and its labels. */
export function infoUpdateFromWire(info: contentApi.Info): Pick<ContentInfo, "digest" | "labels"> {
  return { digest: info.digest, labels: { ...info.labels } };
}

export function statusToWire(status: IngestStatus): StatusOut {
  return {
    ref: status.ref,
    offset: BigInt(status.offset),
    total: BigInt(status.total),
    expected: status.expected,
    startedAt: timestampFromDate(status.startedAt),
    updatedAt: timestampFromDate(status.updatedAt),
  };
}

// containerd.services.content.v1 messages <-> core's ContentInfo and IngestStatus.
import type { contentApi } from "@berth/api";
import type { ContentInfo, IngestStatus } from "@berth/core";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { dateFromWire } from "./scalars.js";

export type ContentInfoOut = MessageInitShape<typeof contentApi.InfoSchema>;
export type IngestStatusOut = MessageInitShape<typeof contentApi.StatusSchema>;

export function contentInfoToWire(info: ContentInfo): ContentInfoOut {
  return {
    digest: info.digest,
    size: BigInt(info.size),
    createdAt: timestampFromDate(info.createdAt),
    updatedAt: timestampFromDate(info.updatedAt),
    labels: { ...info.labels },
  };
}

export function contentInfoFromWire(info: contentApi.Info): ContentInfo {
  return {
    digest: info.digest,
    size: Number(info.size),
    labels: { ...info.labels },
    createdAt: dateFromWire(info.createdAt),
    updatedAt: dateFromWire(info.updatedAt),
  };
}

/** What an Update request may change: the digest it names and its labels. */
export function contentUpdateFromWire(info: contentApi.Info): Pick<ContentInfo, "digest" | "labels"> {
  return { digest: info.digest, labels: { ...info.labels } };
}

export function ingestStatusToWire(status: IngestStatus): IngestStatusOut {
  return {
    ref: status.ref,
    offset: BigInt(status.offset),
    total: BigInt(status.total),
    expected: status.expected,
    startedAt: timestampFromDate(status.startedAt),
    updatedAt: timestampFromDate(status.updatedAt),
  };
}

export function ingestStatusFromWire(status: contentApi.Status): IngestStatus {
  return {
    ref: status.ref,
    offset: Number(status.offset),
    total: Number(status.total),
    expected: status.expected,
    startedAt: dateFromWire(status.startedAt),
    updatedAt: dateFromWire(status.updatedAt),
  };
}

import type { criApi } from "@berth/api";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { CriImage } from "./cri-image.js";
import type { FsUsage } from "./image-fs-usage.js";
import { imageUser } from "./image-user.js";

type ImageInit = MessageInitShape<typeof criApi.ImageSchema>;
type FsUsageInit = MessageInitShape<typeof criApi.FilesystemUsageSchema>;

/** CriImage → runtime.v1.Image. */
export function toImageMessage(image: CriImage): ImageInit {
  const user = imageUser(image.config.config?.User);
  return {
    id: image.id,
    repoTags: [...image.repoTags],
    repoDigests: [...image.repoDigests],
    size: BigInt(image.size),
    uid: user.uid !== undefined ? { value: user.uid } : undefined,
    username: user.username,
    spec: { image: image.id },
    pinned: image.pinned,
  };
}

/** ImageStatus's verbose info: the image's config and top snapshot, as JSON under "info". */
export function imageVerboseInfo(image: CriImage): Record<string, string> {
  return { info: JSON.stringify({ chainID: image.chainId, imageSpec: image.config }) };
}

/** Nanoseconds since the epoch, as the CRI's timestamps are. */
export const nowNanos = (): bigint => BigInt(Date.now()) * 1_000_000n;

export function toFsUsageMessage(usage: FsUsage & { mountpoint: string }): FsUsageInit {
  return {
    timestamp: nowNanos(),
    fsId: { mountpoint: usage.mountpoint },
    usedBytes: { value: BigInt(usage.usedBytes) },
    inodesUsed: { value: BigInt(usage.inodesUsed) },
  };
}

import type { Descriptor } from "@berth/core";
import type { ImageConfig } from "@berth/image-spec";

/**
 * An image as the CRI sees it: every record name whose target has the same config is one
 * image, identified by that config's digest.
 */
export interface CriImage {
  /** The config digest, "sha256:…". */
  readonly id: string;
  /** Every record name that points at this image (ID, repo tags, repo digests). */
  readonly references: readonly string[];
  readonly repoTags: readonly string[];
  readonly repoDigests: readonly string[];
  readonly size: number;
  readonly config: ImageConfig;
  /** The top layer's chain ID, the snapshot a container's rootfs is prepared from. */
  readonly chainId: string;
  /** The target of the image's records (manifest or index). */
  readonly target: Descriptor;
  readonly pinned: boolean;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * @berth/transfer: moving images into the store. Pull walks an image from any ImageSource
 * (a registry via @berth/distribution, a local layout) into content, with containerd's GC
 * labels, and unpacks it into a snapshotter through a differ while later layers still download.
 */
export { pullImage, type PullStores, type PullOptions, type PullResult } from "./pull.js";
export { unpackLayers, SNAPSHOT_REF_LABEL, UNCOMPRESSED_LABEL, type UnpackTarget, type LayerToUnpack } from "./unpack.js";
export { storeBlob, ingestRef } from "./store-blob.js";
export type { ImageSource, BlobProgress, BlobState, ProgressListener } from "./image-source.js";
export { chainIds } from "./chain-id.js";
export { MediaTypes, blobKind, type BlobKind } from "./media-types.js";
export {
  parseIndex,
  parseManifest,
  parseConfig,
  childrenOf,
  childGcLabels,
  MAX_MANIFEST_BYTES,
  type ImageIndex,
  type ImageManifest,
  type ImageConfig,
  type PlatformDescriptor,
} from "./manifests.js";
export { parsePlatform, formatPlatform, normalizePlatform, hostPlatform, platformMatches, type Platform } from "./platforms.js";
export { readSmallBlob } from "./read-blob.js";
export { ociLayoutSource } from "./oci-layout-source.js";
export { registrySource } from "./registry-source.js";
export { createTransferService, type TransferServiceDeps } from "./transfer-service.js";
export { transferGrpcPlugin } from "./plugin.js";

/**
 * @berth/image-spec: the OCI image-spec (and Docker schema 2) vocabulary that both sides of
 * Berth read: media types and what kind of blob each names, indexes, manifests and image
 * configs parsed and checked, platforms normalised and matched as containerd does, chain IDs,
 * and containerd's GC reference labels between them. Pure functions over bytes; no I/O.
 */
export { MediaTypes, blobKind, childGcLabelPrefix, type BlobKind } from "./media-types.js";
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
  type ImageRunConfig,
  type PlatformDescriptor,
} from "./manifests.js";
export { parsePlatform, formatPlatform, normalizePlatform, hostPlatform, platformMatches, type Platform } from "./platforms.js";
export { chainIds, topChainId } from "./chain-id.js";

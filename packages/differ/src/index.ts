/**
 * @berth/differ: Berth's layer applier and differ — OCI layers (tar, gzip, zstd) applied onto
 * mounted snapshots or straight into overlay upper dirs, and layers computed from two mount
 * sets — with its plugin, io.containerd.differ.v1.walking.
 */
export { createWalkingDiffer } from "./walking-differ.js";
export type { WalkingDifferOptions } from "./walking-differ.js";
export { walkingDifferPlugin } from "./plugin.js";
export {
  LABEL_UNCOMPRESSED,
  MEDIA_TYPE_LAYER,
  MEDIA_TYPE_LAYER_GZIP,
  MEDIA_TYPE_LAYER_ZSTD,
  compressionOfLayer,
} from "./media-types.js";
export type { Compression } from "./media-types.js";

// The building blocks, for tools and tests that apply or write tars without a content store.
export { applyTarStream } from "./apply/apply-tar-stream.js";
export type { AppliedTar } from "./apply/apply-tar-stream.js";
export type { LayerTarget } from "./apply/layer-applier.js";
export { TarParser } from "./tar/tar-parser.js";
export type { TarEntryHandler } from "./tar/tar-parser.js";
export { readTar } from "./tar/read-tar.js";
export type { TarRecord } from "./tar/read-tar.js";
export { encodeTarHeader, tarPadding, TAR_TRAILER } from "./tar/tar-writer.js";
export type { TarEntry, TarEntryType, TarTime } from "./tar/tar-entry.js";
export { TarFormatError, TarUnsupportedError } from "./tar/ustar-fields.js";

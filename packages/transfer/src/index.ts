/**
 * @berth/transfer: moving images in and out of the store. Pull walks an image from any
 * ImageSource (a registry via @berth/distribution, a local layout) into content, with
 * containerd's GC labels, and unpacks it into a snapshotter through a differ while later layers
 * still download. Push sends an image from content to a registry (children first, mounts across
 * repositories). Import and export read and write image archives (OCI layout, docker-archive)
 * as streams. containerd's Transfer service serves all four to clients. The image-spec
 * vocabulary it reads (media types, manifests, platforms, chain IDs) is @berth/image-spec's.
 */
export { pullImage, type PullStores, type PullOptions, type PullResult } from "./pull.js";
export { pushImage, type PushImageOptions, type PushImageResult, type PushOutcome } from "./push.js";
export { importArchive, type ImportArchiveOptions, type ImportArchiveResult } from "./archive/import-archive.js";
export { exportArchive, type ExportArchiveOptions } from "./archive/export-archive.js";
export { readImageTree, type ImageNode, type PlatformChoice } from "./image-tree.js";
export { importedNames, ociRefName, IMAGE_NAME_ANNOTATION, REF_NAME_ANNOTATION, type ReferenceRule } from "./image-names.js";
export { DISTRIBUTION_SOURCE_PREFIX, distributionSourceKey, type ImageOrigin } from "./distribution-source.js";
export { receiveData, sendData, RECEIVE_WINDOW, MAX_DATA_MESSAGE } from "./data-stream.js";
export { saveImage } from "./save-image.js";
export { writeBlob, writeJsonBlob } from "./write-blob.js";
export { unpackLayers, SNAPSHOT_REF_LABEL, UNCOMPRESSED_LABEL, type UnpackTarget, type LayerToUnpack } from "./unpack.js";
export { storeBlob, ingestRef, type StoreBlobOptions, type StoreOutcome } from "./store-blob.js";
export type { ImageSource, BlobProgress, BlobState, ProgressListener } from "./image-source.js";
export { readSmallBlob } from "./read-blob.js";
export { ociLayoutSource } from "./oci-layout-source.js";
export { registrySource } from "./registry-source.js";
export { createTransferService, type TransferServiceDeps } from "./transfer-service.js";
export { transferGrpcPlugin } from "./plugin.js";

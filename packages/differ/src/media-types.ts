import { notImplemented } from "@berth/core";

/** How a layer blob is compressed. */
export type Compression = "none" | "gzip" | "zstd";

export const MEDIA_TYPE_LAYER = "application/vnd.oci.image.layer.v1.tar";
export const MEDIA_TYPE_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
export const MEDIA_TYPE_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";

/** Label on a layer blob naming the digest of its uncompressed tar (the diff ID). */
export const LABEL_UNCOMPRESSED = "containerd.io/uncompressed";

const LAYER_TYPES: ReadonlyMap<string, Compression> = new Map([
  [MEDIA_TYPE_LAYER, "none"],
  [MEDIA_TYPE_LAYER_GZIP, "gzip"],
  [MEDIA_TYPE_LAYER_ZSTD, "zstd"],
  ["application/vnd.oci.image.layer.nondistributable.v1.tar", "none"],
  ["application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", "gzip"],
  ["application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", "zstd"],
  ["application/vnd.docker.image.rootfs.diff.tar", "none"],
  ["application/vnd.docker.image.rootfs.diff.tar.gzip", "gzip"],
  ["application/vnd.docker.image.rootfs.diff.tar.zstd", "zstd"],
  ["application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "gzip"],
]);

/** The compression of a layer media type; NotImplemented for anything that is not a layer Berth can read. */
export function compressionOfLayer(mediaType: string): Compression {
  const c = LAYER_TYPES.get(mediaType);
  if (c === undefined) throw notImplemented(`unsupported layer media type "${mediaType}"`);
  return c;
}

/** The compression Compare writes for a media type: only the three OCI layer types, as containerd. */
export function compressionForDiff(mediaType: string): Compression {
  switch (mediaType) {
    case MEDIA_TYPE_LAYER:
      return "none";
    case MEDIA_TYPE_LAYER_GZIP:
      return "gzip";
    case MEDIA_TYPE_LAYER_ZSTD:
      return "zstd";
  }
  throw notImplemented(`unsupported diff media type "${mediaType}"`);
}

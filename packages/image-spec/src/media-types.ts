/** The media types a pull meets, OCI and Docker schema 2, and what each kind of blob is. */
export const MediaTypes = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar",
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  ociLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayer: "application/vnd.docker.image.rootfs.diff.tar",
  dockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  dockerLayerZstd: "application/vnd.docker.image.rootfs.diff.tar.zstd",
  dockerForeignLayerGzip: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
} as const;

export type BlobKind = "index" | "manifest" | "config" | "layer" | "other";

const KINDS: ReadonlyMap<string, BlobKind> = new Map<string, BlobKind>([
  [MediaTypes.ociIndex, "index"],
  [MediaTypes.dockerManifestList, "index"],
  [MediaTypes.ociManifest, "manifest"],
  [MediaTypes.dockerManifest, "manifest"],
  [MediaTypes.ociConfig, "config"],
  [MediaTypes.dockerConfig, "config"],
]);

/** Layers are recognised by prefix, so "+encrypted" and non-distributable variants count too. */
const LAYER_PREFIXES = ["application/vnd.oci.image.layer.", "application/vnd.docker.image.rootfs."];

export function blobKind(mediaType: string): BlobKind {
  const kind = KINDS.get(mediaType);
  if (kind !== undefined) return kind;
  return LAYER_PREFIXES.some((p) => mediaType.startsWith(p)) ? "layer" : "other";
}

/** The label key containerd uses on a parent blob to keep `child` from garbage collection. */
export function childGcLabelPrefix(kind: BlobKind): string {
  switch (kind) {
    case "config":
      return "containerd.io/gc.ref.content.config";
    case "manifest":
      return "containerd.io/gc.ref.content.m.";
    case "layer":
      return "containerd.io/gc.ref.content.l.";
    default:
      return "containerd.io/gc.ref.content.";
  }
}

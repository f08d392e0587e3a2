/** Manifest and index media types a registry serves, OCI and Docker schema 2. */
export const MediaTypes = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerSchema1: "application/vnd.docker.distribution.manifest.v1+json",
  dockerSchema1Signed: "application/vnd.docker.distribution.manifest.v1+prettyjws",
} as const;

/** What resolve asks for: every type Berth can pull, then anything (as containerd does). */
export const MANIFEST_ACCEPT = [
  MediaTypes.dockerManifest,
  MediaTypes.dockerManifestList,
  MediaTypes.ociManifest,
  MediaTypes.ociIndex,
  "*/*",
].join(", ");

export function isManifestMediaType(mediaType: string): boolean {
  return mediaType === MediaTypes.ociManifest || mediaType === MediaTypes.dockerManifest;
}

export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === MediaTypes.ociIndex || mediaType === MediaTypes.dockerManifestList;
}

/** Manifests and indexes live under /manifests/ and have a size limit; everything else is a blob. */
export function isManifestOrIndex(mediaType: string): boolean {
  return isManifestMediaType(mediaType) || isIndexMediaType(mediaType) || isSchema1(mediaType);
}

export function isSchema1(mediaType: string): boolean {
  return mediaType === MediaTypes.dockerSchema1 || mediaType === MediaTypes.dockerSchema1Signed;
}

/** A Content-Type header without parameters; registries that predate schema 2 send text/plain. */
export function mediaTypeOf(contentType: string | undefined): string {
  const bare = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  return bare === "text/plain" ? MediaTypes.dockerSchema1 : bare;
}

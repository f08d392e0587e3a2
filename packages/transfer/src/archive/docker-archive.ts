import { invalidArgument, notFound, type ContentStore, type Descriptor, type OpContext } from "@berth/core";
import { formatReference, parseReference } from "@berth/distribution";
import { MediaTypes, type PlatformDescriptor } from "@berth/image-spec";
import { IMAGE_NAME_ANNOTATION, REF_NAME_ANNOTATION, ociRefName } from "../image-names.js";
import { readSmallBlob } from "../read-blob.js";
import { writeJsonBlob } from "../write-blob.js";
import type { ArchiveContents, ArchiveFile } from "./ingest-archive.js";

/** One entry of docker-archive's manifest.json (`docker save`, `skopeo copy … docker-archive:`). */
interface DockerArchiveImage {
  readonly Config: string;
  readonly RepoTags: readonly string[];
  readonly Layers: readonly string[];
}

/**
 * A docker-archive as an OCI index, as containerd imports one: per manifest.json entry a
 * Docker schema 2 manifest (config and layers as the archive holds them, plain tars as plain
 * layers), named after its RepoTags; the manifests and the index are written to the store.
 */
export async function dockerArchiveIndex(content: ContentStore, ctx: OpContext, archive: ArchiveContents): Promise<Descriptor> {
  const entries = parseDockerManifest(archive.dockerManifest);
  const manifests: PlatformDescriptor[] = [];
  for (const [i, image] of entries.entries()) {
    const configFile = fileAt(archive, image.Config, `manifest.json[${i}] Config`);
    const config: Descriptor = { mediaType: MediaTypes.dockerConfig, digest: configFile.digest, size: configFile.size };
    const layers = image.Layers.map((path, j) => {
      const file = fileAt(archive, path, `manifest.json[${i}] Layers[${j}]`);
      return { mediaType: layerMediaType(file), digest: file.digest, size: file.size };
    });
    const manifest = await writeJsonBlob(content, ctx, MediaTypes.dockerManifest, {
      schemaVersion: 2,
      mediaType: MediaTypes.dockerManifest,
      config,
      layers,
    });
    const platform = await platformOf(content, ctx, config);
    if (image.RepoTags.length === 0) manifests.push({ ...manifest, platform });
    for (const tag of image.RepoTags) {
      const name = formatReference(parseReference(tag));
      manifests.push({ ...manifest, platform, annotations: { [IMAGE_NAME_ANNOTATION]: name, [REF_NAME_ANNOTATION]: ociRefName(name) } });
    }
  }
  return writeJsonBlob(content, ctx, MediaTypes.ociIndex, { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests });
}

function parseDockerManifest(v: unknown): DockerArchiveImage[] {
  if (!Array.isArray(v)) throw invalidArgument("manifest.json of the docker archive is not a list");
  return v.map((e: unknown, i) => {
    const entry = e as Partial<DockerArchiveImage> | null;
    if (typeof entry?.Config !== "string" || !Array.isArray(entry.Layers) || !entry.Layers.every((l) => typeof l === "string")) {
      throw invalidArgument(`manifest.json[${i}] of the docker archive needs Config and Layers`);
    }
    const tags = Array.isArray(entry.RepoTags) ? entry.RepoTags.filter((t): t is string => typeof t === "string") : [];
    return { Config: entry.Config, Layers: entry.Layers, RepoTags: tags };
  });
}

function fileAt(archive: ArchiveContents, path: string, what: string): ArchiveFile {
  const file = archive.files.get(path) ?? archive.files.get(archive.symlinks.get(path) ?? "");
  if (file === undefined) throw notFound(`${what}: ${path} is not in the archive`);
  return file;
}

/** gzip and zstd are recognised by their magic numbers; anything else is a plain tar. */
function layerMediaType(file: ArchiveFile): string {
  const [a, b, c, d] = file.head;
  if (a === 0x1f && b === 0x8b) return MediaTypes.dockerLayerGzip;
  if (a === 0x28 && b === 0xb5 && c === 0x2f && d === 0xfd) return MediaTypes.dockerLayerZstd;
  return MediaTypes.dockerLayer;
}

async function platformOf(content: ContentStore, ctx: OpContext, config: Descriptor): Promise<PlatformDescriptor["platform"]> {
  const v = JSON.parse((await readSmallBlob(content, ctx, config)).toString("utf8")) as { os?: unknown; architecture?: unknown; variant?: unknown };
  if (typeof v.os !== "string" || typeof v.architecture !== "string") return undefined;
  return { os: v.os, architecture: v.architecture, ...(typeof v.variant === "string" && v.variant !== "" ? { variant: v.variant } : {}) };
}

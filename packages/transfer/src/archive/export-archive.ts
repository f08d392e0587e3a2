import { createHash } from "node:crypto";
import { failedPrecondition, type ContentStore, type Descriptor, type Image, type OpContext } from "@berth/core";
import { TAR_TRAILER, encodeTarHeader, tarPadding, type TarEntry } from "@berth/differ";
import { familiarName, parseReference } from "@berth/distribution";
import { blobKind, hostPlatform, MediaTypes, platformMatches, type Platform } from "@berth/image-spec";
import { distributionSourceAnnotations } from "../distribution-source.js";
import { IMAGE_NAME_ANNOTATION, REF_NAME_ANNOTATION, ociRefName } from "../image-names.js";
import { readImageTree, type ImageNode } from "../image-tree.js";

export interface ExportArchiveOptions {
  /** The platforms whose manifests go into the archive; default the host's. */
  readonly platforms?: readonly Platform[] | undefined;
  /** Every manifest of every index instead. */
  readonly allPlatforms?: boolean | undefined;
  /** Leave out docker's manifest.json (kept by default, so `docker load` reads the archive). */
  readonly skipCompatibilityManifest?: boolean | undefined;
}

/** A manifest docker's manifest.json describes, and the names it goes by. */
interface CompatImage {
  readonly manifest: ImageNode;
  readonly names: string[];
}

/**
 * The images as an OCI image layout tar, streamed: oci-layout, each blob once under
 * blobs/sha256/ (read from the store and checked against its digest on the way), index.json
 * naming every image (io.containerd.image.name and the OCI ref name), and docker's
 * manifest.json beside it. An index goes whole; of its manifests only the chosen platforms'
 * (with their configs and layers) are included, as containerd exports.
 */
export async function* exportArchive(content: ContentStore, ctx: OpContext, images: readonly Image[], opts: ExportArchiveOptions = {}): AsyncGenerator<Uint8Array> {
  const platforms = opts.platforms !== undefined && opts.platforms.length > 0 ? opts.platforms : [hostPlatform()];
  const blobs = new Map<string, Descriptor>();
  const entries: Descriptor[] = [];
  const compat = new Map<string, CompatImage>();
  for (const image of images) {
    const nodes = await readImageTree(content, ctx, image.target, opts.allPlatforms ? "all" : platforms);
    for (const node of nodes) blobs.set(node.desc.digest, node.desc);
    const sources = distributionSourceAnnotations((await content.info(ctx, image.target.digest)).labels);
    entries.push({
      ...image.target,
      annotations: { ...image.target.annotations, ...sources, [IMAGE_NAME_ANNOTATION]: image.name, [REF_NAME_ANNOTATION]: ociRefName(image.name) },
    });
    const manifest = compatManifest(nodes, platforms);
    if (manifest !== undefined) {
      const entry = compat.get(manifest.desc.digest) ?? { manifest, names: [] };
      entry.names.push(image.name);
      compat.set(manifest.desc.digest, entry);
    }
  }

  yield* file("oci-layout", JSON.stringify({ imageLayoutVersion: "1.0.0" }), 0o444);
  yield* directory("blobs/");
  yield* directory("blobs/sha256/");
  for (const desc of blobs.values()) yield* blob(content, ctx, desc);
  yield* file("index.json", JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: entries }), 0o644);
  if (!opts.skipCompatibilityManifest && compat.size > 0) yield* file("manifest.json", JSON.stringify([...compat.values()].map(dockerEntry)), 0o644);
  yield TAR_TRAILER;
}

/** The one manifest docker would load for an image: itself, or an index's first for the platforms (in their order). */
function compatManifest(nodes: readonly ImageNode[], platforms: readonly Platform[]): ImageNode | undefined {
  const [root] = nodes;
  if (root === undefined) return undefined;
  const byDigest = new Map(nodes.map((n) => [n.desc.digest, n]));
  if (blobKind(root.desc.mediaType) === "manifest") return root;
  for (const platform of platforms) {
    const match = root.children.find((m) => blobKind(m.mediaType) === "manifest" && (m.platform === undefined || platformMatches(platform, m.platform)));
    if (match !== undefined) return byDigest.get(match.digest);
  }
  return undefined;
}

function dockerEntry({ manifest, names }: CompatImage) {
  const [config, ...layers] = manifest.children;
  const tags = names.flatMap((name) => {
    try {
      const ref = parseReference(name);
      return ref.digest === undefined ? [familiarName(ref)] : [];
    } catch {
      return [];
    }
  });
  return { Config: blobPath(config!), RepoTags: tags, Layers: layers.map(blobPath) };
}

const blobPath = (desc: Descriptor) => `blobs/sha256/${desc.digest.slice("sha256:".length)}`;

function entry(name: string, type: "file" | "dir", mode: number, size: number): TarEntry {
  return { name, type, mode, uid: 0, gid: 0, size, mtime: { sec: 0, nsec: 0 }, linkname: "", devmajor: 0, devminor: 0 };
}

function* file(name: string, text: string, mode: number): Generator<Uint8Array> {
  const data = Buffer.from(text, "utf8");
  yield encodeTarHeader(entry(name, "file", mode, data.length));
  yield data;
  yield tarPadding(data.length);
}

function* directory(name: string): Generator<Uint8Array> {
  yield encodeTarHeader(entry(name, "dir", 0o755, 0));
}

async function* blob(content: ContentStore, ctx: OpContext, desc: Descriptor): AsyncGenerator<Uint8Array> {
  yield encodeTarHeader(entry(blobPath(desc), "file", 0o444, desc.size));
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of content.read(ctx, desc.digest)) {
    size += chunk.byteLength;
    if (size > desc.size) break;
    hash.update(chunk);
    yield chunk;
  }
  const digest = `sha256:${hash.digest("hex")}`;
  // A short or altered blob would make a tar that lies: fail the export instead.
  if (size !== desc.size || digest !== desc.digest) {
    throw failedPrecondition(`blob ${desc.digest} in the content store has ${size} bytes with digest ${digest}, expected ${desc.size} bytes`);
  }
  yield tarPadding(desc.size);
}

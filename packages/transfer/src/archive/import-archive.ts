import { invalidArgument, notFound, type Descriptor, type Image, type OpContext } from "@berth/core";
import { MediaTypes, parseIndex, type Platform, type PlatformDescriptor } from "@berth/image-spec";
import type { ImageSource, ProgressListener } from "../image-source.js";
import { importedNames, type ReferenceRule } from "../image-names.js";
import { withLease } from "../lease.js";
import { pullImage, type PullStores } from "../pull.js";
import { readSmallBlob } from "../read-blob.js";
import { saveImage } from "../save-image.js";
import type { UnpackTarget } from "../unpack.js";
import { decompressed } from "./decompress.js";
import { dockerArchiveIndex } from "./docker-archive.js";
import { ingestArchive, type ArchiveContents } from "./ingest-archive.js";

export interface ImportArchiveOptions {
  /** How the archive's images are named (containerd's base-name rules); an entry no rule names is not stored. */
  readonly references: readonly ReferenceRule[];
  /** Also store the archive's index itself as an image of this name. */
  readonly indexName?: string | undefined;
  readonly labels?: Readonly<Record<string, string>> | undefined;
  /** Which manifests of an index to take in: one platform's, or all (the default). */
  readonly platform?: Platform | "all" | undefined;
  /** Unpack the host platform's layers into this snapshotter. */
  readonly unpack?: UnpackTarget | undefined;
  readonly onProgress?: ProgressListener | undefined;
}

export interface ImportArchiveResult {
  /** The archive's index (index.json, or the one composed for a docker-archive). */
  readonly index: Descriptor;
  readonly images: readonly Image[];
}

/** The OCI image layout version this reader understands. */
const LAYOUT_VERSION = "1.0.0";

/**
 * Imports an image archive — an OCI image layout or a docker-archive, as a tar, gzip- or
 * zstd-compressed or not — as it streams in. Every file goes into the content store under a
 * lease first; then each named entry of the archive's index is taken in like a pull from the
 * store itself (GC labels, platform choice, unpack) and its image records written.
 */
export async function importArchive(stores: PullStores, ctx: OpContext, archive: AsyncIterable<Uint8Array>, opts: ImportArchiveOptions): Promise<ImportArchiveResult> {
  const run = async (leased: OpContext): Promise<ImportArchiveResult> => {
    const contents = await ingestArchive(stores.content, leased, decompressed(archive));
    const index = await archiveIndex(stores, leased, contents);
    const entries = parseIndex(await readSmallBlob(stores.content, leased, index), index.digest).manifests;
    const images: Image[] = [];
    const labels = { ...opts.labels };
    const taken = new Set<string>();
    for (const entry of entries) {
      const names = importedNames(entry.annotations, entry.digest, opts.references);
      const [first, ...more] = names;
      if (first === undefined) continue;
      const target = targetOf(entry);
      if (!taken.has(entry.digest)) {
        taken.add(entry.digest);
        const pulled = await pullImage(stores, leased, fromStore(first, target), { platform: opts.platform ?? "all", unpack: opts.unpack, labels, onProgress: opts.onProgress });
        images.push(pulled.image);
      } else {
        images.push(await saveImage(stores.images, leased, { name: first, labels, target }));
      }
      for (const name of more) images.push(await saveImage(stores.images, leased, { name, labels, target }));
    }
    if (opts.indexName !== undefined && opts.indexName !== "") {
      images.push(await saveImage(stores.images, leased, { name: opts.indexName, labels, target: index }));
    }
    return { index, images };
  };
  return withLease(stores.leases, ctx, run, "import");
}

/** index.json of an OCI layout, or an index composed from a docker-archive's manifest.json. */
async function archiveIndex(stores: PullStores, ctx: OpContext, contents: ArchiveContents): Promise<Descriptor> {
  if (contents.ociLayoutVersion !== undefined) {
    if (contents.ociLayoutVersion !== LAYOUT_VERSION) throw invalidArgument(`unsupported OCI image layout version ${contents.ociLayoutVersion}`);
    const file = contents.files.get("index.json");
    if (file === undefined) throw invalidArgument("the archive has an oci-layout but no index.json");
    return { mediaType: MediaTypes.ociIndex, digest: file.digest, size: file.size };
  }
  if (contents.dockerManifest !== undefined) return dockerArchiveIndex(stores.content, ctx, contents);
  throw invalidArgument("unrecognised image archive: neither an OCI image layout (oci-layout, index.json) nor a docker-archive (manifest.json)");
}

/** The image target an index entry becomes: the descriptor as the index has it, platform aside. */
function targetOf(entry: PlatformDescriptor): Descriptor {
  const { mediaType, digest, size, annotations } = entry;
  return annotations === undefined ? { mediaType, digest, size } : { mediaType, digest, size, annotations };
}

/** The archive, already in the store, as an image source: anything not stored was not in it. */
function fromStore(name: string, descriptor: Descriptor): ImageSource {
  return {
    resolve: async () => ({ name, descriptor }),
    async *fetch(desc) {
      throw notFound(`${desc.mediaType} ${desc.digest} is not in the archive`);
    },
  };
}

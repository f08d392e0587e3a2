import { notFound, type ContentStore, type Descriptor, type OpContext } from "@berth/core";
import { blobKind, hostPlatform, parseConfig, parseIndex, parseManifest, platformMatches, topChainId, type ImageConfig } from "@berth/image-spec";
import { readSmallBlob } from "@berth/transfer";

/** What an image record's target resolves to on this host. Immutable per target digest. */
export interface ImageDetails {
  /** The config's digest: the CRI's image ID. */
  readonly id: string;
  readonly config: ImageConfig;
  /** The host platform's manifest. */
  readonly manifest: Descriptor;
  /** Bytes of the index (if any), manifest, config and layers: what the image takes in content. */
  readonly size: number;
  /** The top layer's chain ID: the committed snapshot containers are prepared from. */
  readonly chainId: string;
}

/**
 * Reads an image's host-platform manifest and config from content. NotFound when the target
 * has no manifest for this host or its blobs are missing (an image still being pulled).
 */
export async function readImageDetails(content: ContentStore, ctx: OpContext, target: Descriptor): Promise<ImageDetails> {
  let desc = target;
  let size = 0;
  // Indexes may nest; a manifest is reached within a few hops.
  for (let depth = 0; depth < 8; depth++) {
    const kind = blobKind(desc.mediaType);
    if (kind === "manifest") {
      const manifest = parseManifest(await readSmallBlob(content, ctx, desc), desc.digest);
      const config = parseConfig(await readSmallBlob(content, ctx, manifest.config), manifest.config.digest);
      size += desc.size + manifest.config.size + manifest.layers.reduce((sum, l) => sum + l.size, 0);
      return { id: manifest.config.digest, config, manifest: desc, size, chainId: topChainId(config.rootfs.diff_ids) ?? "" };
    }
    if (kind !== "index") throw notFound(`image target ${desc.digest} is a ${desc.mediaType}, not a manifest or index`);
    const index = parseIndex(await readSmallBlob(content, ctx, desc), desc.digest);
    const host = hostPlatform();
    const next = index.manifests.find((m) => (m.platform === undefined ? blobKind(m.mediaType) === "index" : platformMatches(host, m.platform)));
    if (next === undefined) throw notFound(`image index ${desc.digest} has no manifest for this host's platform`);
    size += desc.size;
    desc = next;
  }
  throw notFound(`image target ${target.digest}: indexes nested too deep`);
}

import { isNotFound, notFound, type ContentStore, type Descriptor, type OpContext } from "@berth/core";
import { blobKind, formatPlatform, parseIndex, parseManifest, platformMatches, type Platform, type PlatformDescriptor } from "@berth/image-spec";
import { readSmallBlob } from "./read-blob.js";

/** Which manifests of an index to follow: those for any of these platforms, or all of them. */
export type PlatformChoice = readonly Platform[] | "all";

/** A blob of an image and the children carried along with it. */
export interface ImageNode {
  readonly desc: PlatformDescriptor;
  /** An index's chosen manifests; a manifest's config and layers; nothing for other blobs. */
  readonly children: readonly PlatformDescriptor[];
}

/**
 * Reads the image below `root` from the content store: each index and manifest, an index's
 * manifests narrowed to `platforms` (entries without a platform, nested indexes, always kept).
 * Every blob appears once, parents before their children. A blob the walk needs but the store
 * lacks is NotFound naming it and its parent.
 */
export async function readImageTree(content: ContentStore, ctx: OpContext, root: Descriptor, platforms: PlatformChoice): Promise<ImageNode[]> {
  const nodes = new Map<string, ImageNode>();
  const visit = async (desc: PlatformDescriptor, parent: Descriptor | undefined): Promise<void> => {
    if (nodes.has(desc.digest)) return;
    const children = await childrenOf(content, ctx, desc, parent, platforms);
    nodes.set(desc.digest, { desc, children });
    // Each child's own subtree is read before the next child's: the order stays deterministic.
    for (const child of children) await visit(child, desc);
  };
  await visit(root, undefined);
  return [...nodes.values()];
}

async function childrenOf(
  content: ContentStore,
  ctx: OpContext,
  desc: PlatformDescriptor,
  parent: Descriptor | undefined,
  platforms: PlatformChoice,
): Promise<PlatformDescriptor[]> {
  const kind = blobKind(desc.mediaType);
  if (kind !== "index" && kind !== "manifest") {
    await present(content, ctx, desc, parent);
    return [];
  }
  const bytes = await readSmallBlob(content, ctx, desc).catch((err: unknown) => {
    throw isNotFound(err) ? missing(desc, parent, err) : err;
  });
  if (kind === "manifest") {
    const m = parseManifest(bytes, desc.digest);
    return [m.config, ...m.layers];
  }
  const index = parseIndex(bytes, desc.digest);
  if (platforms === "all") return [...index.manifests];
  const chosen = index.manifests.filter((m) => m.platform === undefined || platforms.some((p) => platformMatches(p, m.platform!)));
  if (chosen.length === 0) {
    throw notFound(`index ${desc.digest} has no manifest for ${platforms.map(formatPlatform).join(", ")}`);
  }
  return chosen;
}

async function present(content: ContentStore, ctx: OpContext, desc: Descriptor, parent: Descriptor | undefined): Promise<void> {
  try {
    await content.info(ctx, desc.digest);
  } catch (err) {
    throw isNotFound(err) ? missing(desc, parent, err) : err;
  }
}

function missing(desc: PlatformDescriptor, parent: Descriptor | undefined, cause: unknown): Error {
  const of = parent === undefined ? "" : ` of ${parent.digest}`;
  const platform = desc.platform ? ` (${formatPlatform(desc.platform)})` : "";
  const hint = blobKind(desc.mediaType) === "manifest" && desc.platform ? ": pulled for other platforms only? choose platforms, or pull them all" : "";
  return notFound(`${desc.mediaType} ${desc.digest}${platform}${of} is not in the content store${hint}`, cause);
}

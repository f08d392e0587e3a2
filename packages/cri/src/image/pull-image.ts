import { failedPrecondition, type Differ, type Logger, type MetadataStore, type OpContext } from "@berth/core";
import { createResolver, type CredentialsProvider } from "@berth/distribution";
import { pullImage, registrySource, saveImage } from "@berth/transfer";
import { IMAGE_LABEL, IMAGE_LABEL_VALUE, PINNED_LABEL, PINNED_LABEL_VALUE } from "../state/cri-labels.js";
import type { CriImage } from "./cri-image.js";
import type { ImageCatalog } from "./image-catalog.js";
import { normalizeImageRef, repoNames } from "./image-reference.js";

export interface PullDeps {
  readonly metadata: MetadataStore;
  readonly catalog: ImageCatalog;
  readonly differ: Differ;
  /** The snapshotter takes a parent at commit (UnpackTarget.rebase). */
  readonly canRebase: boolean;
  /** The snapshotter images unpack into, by the name metadata knows it ("overlayfs"). */
  readonly snapshotter: string;
  /** A certs.d-style hosts directory; "" for none. */
  readonly hostsDir: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Normalised references that get the pinned label (the sandbox image, configured ones). */
  readonly pinned: ReadonlySet<string>;
  readonly log: Logger;
}

/**
 * PullImage as containerd's CRI does it, in this process: fetch the host platform's image
 * into content and unpack it into the configured snapshotter (@berth/transfer), then name it
 * three ways (the reference as asked, `repo:tag`, `repo@<manifest digest>`, and its ID, the
 * config digest), each record labelled as managed by the CRI. Returns the image.
 */
export async function pullCriImage(deps: PullDeps, ctx: OpContext, ref: string, credentials: CredentialsProvider | undefined): Promise<CriImage> {
  const { name, reference } = normalizeImageRef(ref);
  const snapshotter = deps.metadata.snapshotters.get(deps.snapshotter);
  if (snapshotter === undefined) throw notLoaded(deps);
  const labels: Record<string, string> = { [IMAGE_LABEL]: IMAGE_LABEL_VALUE };
  if (deps.pinned.has(name)) labels[PINNED_LABEL] = PINNED_LABEL_VALUE;

  const resolver = createResolver({ hostsDir: deps.hostsDir || undefined, credentials, headers: deps.headers, logger: deps.log });
  try {
    const result = await pullImage(deps.metadata, ctx, registrySource(resolver, name), {
      unpack: { name: deps.snapshotter, snapshotter, differ: deps.differ, rebase: deps.canRebase },
      labels,
    });
    const target = result.image.target;
    const image = await deps.catalog.get(ctx, name);
    const { repoTag, repoDigest } = repoNames(reference, target.digest);
    for (const alias of [image.id, repoTag, repoDigest]) {
      if (alias === undefined || alias === name) continue;
      await saveImage(deps.metadata.images, ctx, { name: alias, target, labels });
    }
    deps.log.info("cri: pulled image", { ref, id: image.id, repoTag, repoDigest });
    return deps.catalog.get(ctx, image.id);
  } finally {
    await resolver.close();
  }
}

function notLoaded(deps: PullDeps): Error {
  const have = [...deps.metadata.snapshotters.keys()].join(", ") || "none";
  return failedPrecondition(`cri: snapshotter "${deps.snapshotter}" is not loaded (loaded: ${have})`);
}

import { failedPrecondition, isNotFound, type OpContext } from "@berth/core";
import type { CredentialsProvider } from "@berth/distribution";
import type { CriImage } from "./cri-image.js";
import type { ImageCatalog } from "./image-catalog.js";
import { snapshotterUsage, type FsUsage } from "./image-fs-usage.js";
import { pullCriImage, type PullDeps } from "./pull-image.js";

/**
 * The CRI's image operations, for the ImageService and for the runtime side (a sandbox needs
 * its pause image, a container its image's config and top snapshot).
 */
export interface CriImages {
  list(ctx: OpContext): Promise<CriImage[]>;
  /** NotFound when no image matches `refOrId` (see ImageCatalog.get). */
  get(ctx: OpContext, refOrId: string): Promise<CriImage>;
  pull(ctx: OpContext, ref: string, credentials?: CredentialsProvider): Promise<CriImage>;
  /** The image `ref` names, pulled first when it is not here (the sandbox image). */
  ensure(ctx: OpContext, ref: string): Promise<CriImage>;
  /** Removes every name of the image; nothing when it does not exist. */
  remove(ctx: OpContext, refOrId: string): Promise<void>;
  /** The snapshotter's usage, and where it keeps its data. */
  fsUsage(ctx: OpContext): Promise<FsUsage & { mountpoint: string }>;
  /** The snapshotter images are unpacked into ("overlayfs"). */
  readonly snapshotter: string;
}

export function createCriImages(deps: PullDeps & { catalog: ImageCatalog; snapshotterRoot: string }): CriImages {
  const { catalog, metadata } = deps;
  const images: CriImages = {
    snapshotter: deps.snapshotter,
    list: (ctx) => catalog.list(ctx),
    get: (ctx, refOrId) => catalog.get(ctx, refOrId),
    pull: (ctx, ref, credentials) => pullCriImage(deps, ctx, ref, credentials),
    async ensure(ctx, ref) {
      try {
        return await catalog.get(ctx, ref);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        return images.pull(ctx, ref);
      }
    },
    async remove(ctx, refOrId) {
      let image: CriImage;
      try {
        image = await catalog.get(ctx, refOrId);
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      for (const name of image.references) {
        try {
          await metadata.images.delete(ctx, name);
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
    },
    async fsUsage(ctx) {
      const snapshotter = metadata.snapshotters.get(deps.snapshotter);
      if (snapshotter === undefined) throw failedPrecondition(`cri: snapshotter "${deps.snapshotter}" is not loaded`);
      return { ...(await snapshotterUsage(snapshotter, ctx)), mountpoint: deps.snapshotterRoot };
    },
  };
  return images;
}

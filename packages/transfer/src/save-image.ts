import { isAlreadyExists, isNotFound, type Image, type ImageStore, type OpContext } from "@berth/core";

/** Creates the image record, or points an existing one at the new target with the given labels added. */
export async function saveImage(images: ImageStore, ctx: OpContext, image: Omit<Image, "createdAt" | "updatedAt">): Promise<Image> {
  const update = () => images.update(ctx, image, ["target", ...Object.keys(image.labels).map((k) => `labels.${k}`)]);
  try {
    await images.get(ctx, image.name);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    try {
      return await images.create(ctx, image);
    } catch (createErr) {
      // Created meanwhile by another transfer: update it like any existing one.
      if (!isAlreadyExists(createErr)) throw createErr;
    }
  }
  return update();
}

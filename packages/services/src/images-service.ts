import { eventPayloads, imagesApi } from "@berth/api";
import { bindService, invalidArgument, notFound, type GarbageCollector, type GrpcService, type MetadataStore, type Publisher } from "@berth/core";
import { imageFromWire, imageToWire } from "./convert-images.js";
import { checkFilters, maskPaths, opContext, publishEvent, required } from "./edge.js";

/**
 * containerd.services.images.v1.Images over the metadata store. Publishes /images/create,
 * /images/update and /images/delete in the request's namespace.
 */
export function createImagesService(metadata: Pick<MetadataStore, "images">, publisher: Publisher, gc?: GarbageCollector): GrpcService {
  const store = metadata.images;
  return {
    bindings: [
      bindService(imagesApi.Images, {
        async get(req, ctx) {
          return { image: imageToWire(await store.get(opContext(ctx), req.name)) };
        },

        async list(req, ctx) {
          const images = await store.list(opContext(ctx), checkFilters(req.filters));
          return { images: images.map(imageToWire) };
        },

        // source_date_epoch only matters to stores that stamp with it; Berth's stamp with the clock.
        async create(req, ctx) {
          const op = opContext(ctx);
          const image = imageFromWire(required(req.image, "image"));
          if (image.name === "") throw invalidArgument("Image.Name required");
          const created = await store.create(op, image);
          await publishEvent(publisher, op.namespace, "/images/create", eventPayloads.ImageCreateSchema, {
            name: created.name,
            labels: { ...created.labels },
          });
          return { image: imageToWire(created) };
        },

        async update(req, ctx) {
          const op = opContext(ctx);
          const image = imageFromWire(required(req.image, "image"));
          if (image.name === "") throw invalidArgument("Image.Name required");
          const updated = await store.update(op, image, maskPaths(req.updateMask));
          await publishEvent(publisher, op.namespace, "/images/update", eventPayloads.ImageUpdateSchema, {
            name: updated.name,
            labels: { ...updated.labels },
          });
          return { image: imageToWire(updated) };
        },

        // `sync` waits for a garbage collection that starts after the delete; without a
        // collector it is accepted and has nothing to wait for.
        async delete(req, ctx) {
          const op = opContext(ctx);
          if (req.target && req.target.digest !== "") {
            // Delete only if the image still points at this target. Checked before the delete,
            // not in its transaction: the store interface has no target condition yet.
            const current = await store.get(op, req.name);
            if (current.target.digest !== req.target.digest) {
              throw notFound(`image "${req.name}" has target ${current.target.digest}, not ${req.target.digest}`);
            }
          }
          await store.delete(op, req.name);
          await publishEvent(publisher, op.namespace, "/images/delete", eventPayloads.ImageDeleteSchema, { name: req.name });
          if (req.sync && gc) await gc.collect({ signal: op.signal });
          return {};
        },
      }),
    ],
  };
}

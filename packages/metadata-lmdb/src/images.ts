import {
  alreadyExists,
  invalidArgument,
  lookupLabel,
  notFound,
  parseFilters,
  type Descriptor,
  type FieldLookup,
  type Image,
  type ImageStore,
} from "@berth/core";
import type { MetaDb } from "./db.js";
import { imageKey, imagesPrefix } from "./keys.js";
import { fromPairs, ownValue, toPairs, withKey } from "./maps.js";
import { holdInLease, releaseFromLease } from "./leases.js";
import { ensureNamespace } from "./namespaces.js";
import type { ImageRecord } from "./records.js";
import { namespaceOf, validateDigest, validateKeyPart, validateLabels } from "./validate.js";

/** An image carrying this label is only kept by a lease's reference until it expires (containerd's gc). */
const GC_EXPIRE_LABEL = "containerd.io/gc.expire";

type ImageInput = Omit<Image, "createdAt" | "updatedAt">;

/** containerd's checks: a name, valid labels, and a target with digest, size and media type. */
function validateImage(image: ImageInput): void {
  validateKeyPart(image.name, "image name");
  validateLabels(image.labels, "image.labels");
  validateDigest(image.target.digest, "target.digest");
  if (!(image.target.size > 0)) throw invalidArgument("target.size must be greater than zero");
  if (!image.target.mediaType) throw invalidArgument("target.mediaType must be set");
}

function toRecord(image: ImageInput, createdAt: Date, updatedAt: Date): ImageRecord {
  const annotations = toPairs(image.target.annotations);
  return {
    labels: toPairs(image.labels),
    target: {
      mediaType: image.target.mediaType,
      digest: image.target.digest,
      size: image.target.size,
      ...(annotations.length > 0 ? { annotations } : {}),
    },
    createdAt,
    updatedAt,
  };
}

function toImage(name: string, record: ImageRecord): Image {
  const { mediaType, digest, size, annotations } = record.target;
  const target: Descriptor = { mediaType, digest, size, ...(annotations ? { annotations: fromPairs(annotations) } : {}) };
  return { name, labels: fromPairs(record.labels), target, createdAt: record.createdAt, updatedAt: record.updatedAt };
}

const present = (s: string) => (s === "" ? undefined : s);

/** containerd's image filter fields: name, target.digest, target.mediatype, labels.<k>, annotations.<k>. */
const imageFields =
  (image: Image): FieldLookup =>
  (path) => {
    switch (path[0]) {
      case "name":
        return present(image.name);
      case "target":
        if (path[1] === "digest") return present(image.target.digest);
        if (path[1] === "mediatype") return present(image.target.mediaType);
        return undefined;
      case "labels":
        return lookupLabel(image.labels, path.slice(1));
      case "annotations":
        return lookupLabel(image.target.annotations, path.slice(1));
      default:
        return undefined;
    }
  };

/**
 * The fields `fieldpaths` name, copied from `incoming` onto `current` (containerd's update mask:
 * "labels", "labels.<k>", "annotations", "annotations.<k>", "target" as a unit); none replaces
 * the whole image.
 */
function applyImageMask(current: Image, incoming: ImageInput, fieldpaths: readonly string[]): ImageInput {
  if (fieldpaths.length === 0) return incoming;
  let labels = current.labels;
  let target = current.target;
  for (const path of fieldpaths) {
    if (path.startsWith("labels.")) {
      const key = path.slice("labels.".length);
      labels = withKey(labels, key, ownValue(incoming.labels, key));
    } else if (path.startsWith("annotations.")) {
      const key = path.slice("annotations.".length);
      target = { ...target, annotations: withKey(target.annotations ?? {}, key, ownValue(incoming.target.annotations, key)) };
    } else if (path === "labels") {
      labels = incoming.labels;
    } else if (path === "target") {
      // Replaced as a whole: digest, size and media type only make sense together.
      target = incoming.target;
    } else if (path === "annotations") {
      target = { ...target, annotations: incoming.target.annotations ?? {} };
    } else {
      throw invalidArgument(`cannot update ${JSON.stringify(path)} field on image ${JSON.stringify(current.name)}`);
    }
  }
  return { name: current.name, labels, target };
}

export function createImageStore(db: MetaDb): ImageStore {
  return {
    async get(ctx, name) {
      const ns = namespaceOf(ctx);
      const record = db.get<ImageRecord>(imageKey(ns, name));
      if (!record) throw notFound(`image ${JSON.stringify(name)} not found`);
      return toImage(name, record);
    },

    async list(ctx, filters) {
      const ns = namespaceOf(ctx);
      const filter = parseFilters(filters);
      return db
        .list<ImageRecord>(imagesPrefix(ns))
        .map(({ key, value }) => toImage(String(key[3]), value))
        .filter((image) => filter.match(imageFields(image)));
    },

    async create(ctx, image) {
      const ns = namespaceOf(ctx);
      validateImage(image);
      const now = new Date();
      const record = toRecord(image, now, now);
      await db.commit((tx) => {
        ensureNamespace(tx, ns);
        if (tx.has(imageKey(ns, image.name))) throw alreadyExists(`image ${JSON.stringify(image.name)} already exists`);
        // An expiring image is protected by the lease it was created under.
        if (ownValue(image.labels, GC_EXPIRE_LABEL) !== undefined) holdInLease(tx, ns, ctx.lease, "images", image.name);
        tx.put(imageKey(ns, image.name), record);
      });
      return toImage(image.name, record);
    },

    async update(ctx, image, fieldpaths) {
      const ns = namespaceOf(ctx);
      if (!image.name) throw invalidArgument("image name is required for update");
      return db.commit((tx) => {
        const stored = tx.get<ImageRecord>(imageKey(ns, image.name));
        if (!stored) throw notFound(`image ${JSON.stringify(image.name)} not found`);
        const updated = applyImageMask(toImage(image.name, stored), image, fieldpaths);
        validateImage(updated);
        if (ownValue(updated.labels, GC_EXPIRE_LABEL) !== undefined) holdInLease(tx, ns, ctx.lease, "images", image.name);
        const record = toRecord(updated, stored.createdAt, new Date());
        tx.put(imageKey(ns, image.name), record);
        return toImage(image.name, record);
      });
    },

    async delete(ctx, name) {
      const ns = namespaceOf(ctx);
      await db.commit((tx) => {
        if (!tx.has(imageKey(ns, name))) throw notFound(`image ${JSON.stringify(name)} not found`);
        releaseFromLease(tx, ns, ctx.lease, "images", name);
        tx.remove(imageKey(ns, name));
        tx.markDirty();
      });
    },
  };
}

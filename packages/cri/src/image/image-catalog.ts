import { isNotFound, notFound, type Image, type MetadataStore, type OpContext } from "@berth/core";
import { PINNED_LABEL, PINNED_LABEL_VALUE } from "../state/cri-labels.js";
import type { CriImage } from "./cri-image.js";
import { readImageDetails, type ImageDetails } from "./image-details.js";
import { classifyName, isImageId, normalizeImageRef } from "./image-reference.js";

/**
 * The CRI's images, computed from the metadata store's records in the k8s.io namespace every
 * time (so records written by `ctr -n k8s.io` or another process show up, and nothing needs
 * recovery after a restart). Only manifest and config reads are cached, by digest, since
 * content never changes under a digest.
 */
export interface ImageCatalog {
  list(ctx: OpContext): Promise<CriImage[]>;
  /**
   * The image a reference or ID names: a full ID, a reference (normalised the docker way),
   * or a unique ID prefix with or without "sha256:". NotFound when none matches.
   */
  get(ctx: OpContext, refOrId: string): Promise<CriImage>;
}

export function createImageCatalog(metadata: MetadataStore): ImageCatalog {
  const details = new Map<string, Promise<ImageDetails>>();
  const detailsOf = (ctx: OpContext, record: Image): Promise<ImageDetails> => {
    const key = record.target.digest;
    let found = details.get(key);
    if (found === undefined) {
      found = readImageDetails(metadata.content, ctx, record.target);
      details.set(key, found);
      // A failed read (blobs still arriving, or gone) is retried next time.
      found.catch(() => details.delete(key));
    }
    return found;
  };

  async function list(ctx: OpContext): Promise<CriImage[]> {
    const records = await metadata.images.list(ctx, []);
    const byId = new Map<string, { details: ImageDetails; records: Image[] }>();
    for (const record of records) {
      let d: ImageDetails;
      try {
        d = await detailsOf(ctx, record);
      } catch (err) {
        if (isNotFound(err)) continue;
        throw err;
      }
      const group = byId.get(d.id);
      if (group) group.records.push(record);
      else byId.set(d.id, { details: d, records: [record] });
    }
    return [...byId.values()].map(({ details: d, records: rs }) => toCriImage(d, rs));
  }

  return {
    list,
    async get(ctx, refOrId) {
      const images = await list(ctx);
      if (isImageId(refOrId)) return only(images.filter((i) => i.id === refOrId), refOrId);
      const name = tryNormalize(refOrId);
      if (name !== undefined) {
        const named = images.find((i) => i.references.includes(name));
        if (named) return named;
      }
      const hex = refOrId.startsWith("sha256:") ? refOrId.slice(7) : refOrId;
      if (/^[a-f0-9]+$/.test(hex)) return only(images.filter((i) => i.id.slice(7).startsWith(hex)), refOrId);
      throw notFound(`image "${refOrId}" not found`);
    },
  };
}

function toCriImage(d: ImageDetails, records: readonly Image[]): CriImage {
  const names = records.map((r) => r.name).sort();
  // A record named by a tag is the one a user pulled; its target is the image's.
  const primary = records.find((r) => classifyName(r.name) === "tag") ?? records[0]!;
  const labels = Object.assign({}, ...records.map((r) => r.labels)) as Record<string, string>;
  return {
    id: d.id,
    references: names,
    repoTags: names.filter((n) => classifyName(n) === "tag"),
    repoDigests: names.filter((n) => classifyName(n) === "digest"),
    size: d.size,
    config: d.config,
    chainId: d.chainId,
    target: primary.target,
    pinned: records.some((r) => r.labels[PINNED_LABEL] === PINNED_LABEL_VALUE),
    labels,
  };
}

function only(images: CriImage[], asked: string): CriImage {
  if (images.length === 0) throw notFound(`image "${asked}" not found`);
  if (images.length > 1) throw notFound(`image ID prefix "${asked}" is ambiguous (${images.length} images)`);
  return images[0]!;
}

function tryNormalize(ref: string): string | undefined {
  try {
    return normalizeImageRef(ref).name;
  } catch {
    return undefined;
  }
}

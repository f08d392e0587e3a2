// containerd.services.images.v1 messages <-> core's Image record.
import type { imagesApi, types } from "@berth/api";
import type { Descriptor, Image } from "@berth/core";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { int64ToNumber } from "./edge.js";

export type ImageOut = MessageInitShape<typeof imagesApi.ImageSchema>;
export type DescriptorOut = MessageInitShape<typeof types.DescriptorSchema>;

/** What a client may set on an image; the store keeps the timestamps. */
export type ImageIn = Omit<Image, "createdAt" | "updatedAt">;

export function imageToWire(image: Image): ImageOut {
  return {
    name: image.name,
    labels: { ...image.labels },
    target: descriptorToWire(image.target),
    createdAt: timestampFromDate(image.createdAt),
    updatedAt: timestampFromDate(image.updatedAt),
  };
}

/** An image from a request; a missing target is the empty descriptor, as in containerd. */
export function imageFromWire(image: imagesApi.Image): ImageIn {
  return { name: image.name, labels: { ...image.labels }, target: descriptorFromWire(image.target) };
}

export function descriptorToWire(desc: Descriptor): DescriptorOut {
  return { mediaType: desc.mediaType, digest: desc.digest, size: BigInt(desc.size), annotations: { ...desc.annotations } };
}

export function descriptorFromWire(desc: types.Descriptor | undefined): Descriptor {
  if (!desc) return { mediaType: "", digest: "", size: 0 };
  const out: Descriptor = { mediaType: desc.mediaType, digest: desc.digest, size: int64ToNumber(desc.size, "target.size") };
  return Object.keys(desc.annotations).length > 0 ? { ...out, annotations: { ...desc.annotations } } : out;
}

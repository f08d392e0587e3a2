// containerd.services.images.v1 messages <-> core's Image record.
import type { imagesApi } from "@berth/api";
import type { Descriptor, Image } from "@berth/core";
import { descriptorFromWire, descriptorToWire } from "@berth/wire";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";

export type ImageOut = MessageInitShape<typeof imagesApi.ImageSchema>;

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
  return { name: image.name, labels: { ...image.labels }, target: image.target ? descriptorFromWire(image.target) : emptyDescriptor() };
}

const emptyDescriptor = (): Descriptor => ({ mediaType: "", digest: "", size: 0 });

// containerd.types.Descriptor <-> core's Descriptor.
import type { types } from "@berth/api";
import type { Descriptor } from "@berth/core";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { int64ToNumber } from "./scalars.js";

export type DescriptorOut = MessageInitShape<typeof types.DescriptorSchema>;

export function descriptorToWire(desc: Descriptor): DescriptorOut {
  return { mediaType: desc.mediaType, digest: desc.digest, size: BigInt(desc.size), annotations: { ...desc.annotations } };
}

/** A descriptor from the wire; no annotations stays no `annotations` field, so records compare equal. */
export function descriptorFromWire(desc: types.Descriptor): Descriptor {
  const out: Descriptor = { mediaType: desc.mediaType, digest: desc.digest, size: int64ToNumber(desc.size, "descriptor size") };
  return Object.keys(desc.annotations).length > 0 ? { ...out, annotations: { ...desc.annotations } } : out;
}

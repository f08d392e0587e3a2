// containerd.services.containers.v1 messages <-> core's Container record.
import type { containersApi } from "@berth/api";
import type { Container, TypedValue } from "@berth/core";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate, type Any } from "@bufbuild/protobuf/wkt";

export type ContainerOut = MessageInitShape<typeof containersApi.ContainerSchema>;
type AnyOut = { typeUrl: string; value: Uint8Array };

/** What a client may set on a container; the store keeps the timestamps. */
export type ContainerIn = Omit<Container, "createdAt" | "updatedAt">;

export function containerToWire(c: Container): ContainerOut {
  const extensions: Record<string, AnyOut> = {};
  for (const [key, value] of Object.entries(c.extensions)) extensions[key] = anyToWire(value);
  return {
    id: c.id,
    labels: { ...c.labels },
    image: c.image,
    runtime: { name: c.runtime.name, ...(c.runtime.options ? { options: anyToWire(c.runtime.options) } : {}) },
    ...(c.spec ? { spec: anyToWire(c.spec) } : {}),
    snapshotter: c.snapshotter,
    snapshotKey: c.snapshotKey,
    createdAt: timestampFromDate(c.createdAt),
    updatedAt: timestampFromDate(c.updatedAt),
    extensions,
    sandbox: c.sandbox,
  };
}

/** A container from a request; a missing runtime is the empty one, as in containerd. */
export function containerFromWire(c: containersApi.Container): ContainerIn {
  const extensions: Record<string, TypedValue> = {};
  for (const [key, value] of Object.entries(c.extensions)) extensions[key] = anyFromWire(value);
  const options = c.runtime?.options ? anyFromWire(c.runtime.options) : undefined;
  return {
    id: c.id,
    labels: { ...c.labels },
    image: c.image,
    runtime: options ? { name: c.runtime?.name ?? "", options } : { name: c.runtime?.name ?? "" },
    ...(c.spec ? { spec: anyFromWire(c.spec) } : {}),
    snapshotter: c.snapshotter,
    snapshotKey: c.snapshotKey,
    extensions,
    sandbox: c.sandbox,
  };
}

export function anyToWire(value: TypedValue): AnyOut {
  return { typeUrl: value.typeUrl, value: value.value };
}

export function anyFromWire(value: Any): TypedValue {
  return { typeUrl: value.typeUrl, value: value.value };
}

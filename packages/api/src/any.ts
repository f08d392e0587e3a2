import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";

/** A google.protobuf.Any in the plain shape Berth's core uses for event payloads. */
export interface AnyPayload {
  readonly typeUrl: string;
  readonly value: Uint8Array;
}

/**
 * Packs a message the way containerd's typeurl does for protobuf messages: the type URL is
 * the message's full name (containerd.events.TaskExit), with no host prefix.
 */
export function packAny<D extends DescMessage>(schema: D, message: MessageInitShape<D>): AnyPayload {
  return { typeUrl: schema.typeName, value: toBinary(schema, create(schema, message)) };
}

/** Unpacks `any` if it holds `schema`'s type (with or without a host prefix); else undefined. */
export function unpackAny<D extends DescMessage>(schema: D, any: AnyPayload): MessageShape<D> | undefined {
  const name = any.typeUrl.slice(any.typeUrl.lastIndexOf("/") + 1);
  return name === schema.typeName ? fromBinary(schema, any.value) : undefined;
}

import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

/**
 * containerd's cgroup metrics messages (io.containerd.cgroups.v1.Metrics and
 * io.containerd.cgroups.v2.Metrics, from containerd/cgroups) are not in Berth's proto/ yet, so
 * the shim writes their wire form itself. A message is described by its fields in order:
 * `[fieldNumber, kind]` per key. Zero values are left out, as proto3 encoders do.
 */
export type FieldKind = "uint64" | "uint32" | "string" | MessageSpec | { readonly repeated: FieldKind };
export interface MessageSpec {
  readonly [key: string]: readonly [number, FieldKind];
}

export type WireValue = bigint | number | string | WireMessage | readonly WireValue[] | undefined;
export interface WireMessage {
  readonly [key: string]: WireValue;
}

/** Fields numbered 1, 2, 3… in the order of `names`, all uint64 (most cgroup stat messages). */
export function sequentialUint64(names: readonly string[], first = 1): Record<string, readonly [number, FieldKind]> {
  return Object.fromEntries(names.map((name, i) => [name, [first + i, "uint64"] as const]));
}

export function encodeMessage(spec: MessageSpec, message: WireMessage): Uint8Array {
  const writer = new BinaryWriter();
  writeFields(writer, spec, message);
  return writer.finish();
}

function writeFields(writer: BinaryWriter, spec: MessageSpec, message: WireMessage): void {
  const fields = Object.entries(spec).sort(([, a], [, b]) => a[0] - b[0]);
  for (const [key, [number, kind]] of fields) writeField(writer, number, kind, message[key]);
}

function writeField(writer: BinaryWriter, number: number, kind: FieldKind, value: WireValue): void {
  if (value === undefined) return;
  if (typeof kind === "object" && "repeated" in kind) {
    for (const item of value as readonly WireValue[]) writeField(writer, number, kind.repeated as FieldKind, item ?? zeroOf(kind.repeated as FieldKind));
    return;
  }
  switch (kind) {
    case "uint64":
      if (BigInt(value as bigint | number) !== 0n) writer.tag(number, WireType.Varint).uint64(BigInt(value as bigint | number));
      return;
    case "uint32":
      if (Number(value) !== 0) writer.tag(number, WireType.Varint).uint32(Number(value));
      return;
    case "string":
      if (value !== "") writer.tag(number, WireType.LengthDelimited).string(value as string);
      return;
    default:
      writer.tag(number, WireType.LengthDelimited).fork();
      writeFields(writer, kind as MessageSpec, value as WireMessage);
      writer.join();
  }
}

function zeroOf(kind: FieldKind): WireValue {
  return kind === "string" ? "" : kind === "uint64" || kind === "uint32" ? 0n : {};
}

import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

// containerd.runc.v1.Options.shim_cgroup is field 3 (a string); google.protobuf.Any holds a
// type_url (1) and a value (2). Read by hand: `start` must return fast, and loading the whole
// generated API for one string would double its start-up time.
const ANY_TYPE_URL = 1;
const ANY_VALUE = 2;
const OPTIONS_SHIM_CGROUP = 3;
const RUNC_OPTIONS_TYPE = "containerd.runc.v1.Options";

/** The ShimCgroup of the runtime options containerd passes on `start`'s stdin, if any. */
export function decodeShimCgroup(anyBytes: Uint8Array): string | undefined {
  if (anyBytes.length === 0) return undefined;
  let typeUrl = "";
  let value: Uint8Array | undefined;
  for (const [field, read] of fields(anyBytes)) {
    if (field === ANY_TYPE_URL) typeUrl = read.string();
    else if (field === ANY_VALUE) value = read.bytes();
    else return undefined;
  }
  if (value === undefined || typeUrl.slice(typeUrl.lastIndexOf("/") + 1) !== RUNC_OPTIONS_TYPE) return undefined;
  let cgroup: string | undefined;
  for (const [field, read, wireType] of fields(value)) {
    if (field === OPTIONS_SHIM_CGROUP && wireType === WireType.LengthDelimited) cgroup = read.string();
    else read.skip(wireType);
  }
  return cgroup || undefined;
}

function* fields(bytes: Uint8Array): Generator<[number, BinaryReader, WireType]> {
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    yield [field, reader, wireType];
  }
}

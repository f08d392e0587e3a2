import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

/** What container stats need from a shim's cgroup metrics: CPU time and memory working set. */
export interface TaskUsage {
  /** Total CPU time, nanoseconds. */
  readonly cpuNanos: bigint;
  readonly memoryUsage: bigint;
  /** Usage minus inactive file pages: what the kubelet evicts on. */
  readonly workingSet: bigint;
  readonly rss: bigint;
  readonly pageFaults: bigint;
  readonly majorPageFaults: bigint;
}

type Fields = Map<number, (bigint | Uint8Array)[]>;

/** A protobuf message as field number → values, enough to pick a few fields by number. */
function fieldsOf(bytes: Uint8Array): Fields {
  const out: Fields = new Map();
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [no, wire] = r.tag();
    let v: bigint | Uint8Array | undefined;
    if (wire === WireType.Varint) v = BigInt(r.uint64());
    else if (wire === WireType.LengthDelimited) v = r.bytes();
    else r.skip(wire);
    if (v !== undefined) out.set(no, [...(out.get(no) ?? []), v]);
  }
  return out;
}

const num = (f: Fields | undefined, no: number): bigint => {
  const v = f?.get(no)?.at(-1);
  return typeof v === "bigint" ? v : 0n;
};
const msg = (f: Fields | undefined, no: number): Fields | undefined => {
  const v = f?.get(no)?.at(-1);
  return v instanceof Uint8Array ? fieldsOf(v) : undefined;
};

/**
 * Decodes io.containerd.cgroups.v1.Metrics (cpu = 3 → usage = 1 → total = 1; memory = 4 →
 * usage = 33 → usage = 2, total_inactive_file = 30, total_rss = 19, pgfault = 9, pgmajfault =
 * 10) or v2.Metrics (cpu = 2 → usage_usec = 1; memory = 4 → usage = 32, inactive_file = 9,
 * anon = 1, pgfault = 23, pgmajfault = 24). Undefined for any other type.
 */
export function decodeTaskUsage(any: { typeUrl: string; value: Uint8Array }): TaskUsage | undefined {
  const name = any.typeUrl.slice(any.typeUrl.lastIndexOf("/") + 1);
  const m = fieldsOf(any.value);
  if (name === "io.containerd.cgroups.v1.Metrics") {
    const mem = msg(m, 4);
    const usage = num(msg(mem, 33), 2);
    const inactive = num(mem, 30);
    return {
      cpuNanos: num(msg(msg(m, 3), 1), 1),
      memoryUsage: usage,
      workingSet: usage > inactive ? usage - inactive : 0n,
      rss: num(mem, 19),
      pageFaults: num(mem, 9),
      majorPageFaults: num(mem, 10),
    };
  }
  if (name === "io.containerd.cgroups.v2.Metrics") {
    const mem = msg(m, 4);
    const usage = num(mem, 32);
    const inactive = num(mem, 9);
    return {
      cpuNanos: num(msg(m, 2), 1) * 1000n,
      memoryUsage: usage,
      workingSet: usage > inactive ? usage - inactive : 0n,
      rss: num(mem, 1),
      pageFaults: num(mem, 23),
      majorPageFaults: num(mem, 24),
    };
  }
  return undefined;
}

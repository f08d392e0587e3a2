import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import type { TypedValue } from "@berth/core";

/**
 * The few numbers a pod's stats need from a shim's cgroup metrics. Shims send containerd's
 * cgroups types (io.containerd.cgroups.v1.Metrics / v2.Metrics), which Berth's API does not
 * generate, so the fields are read from the wire by number (containerd/cgroups' stats protos).
 */
export interface CgroupUsage {
  /** Total CPU time, nanoseconds. */
  readonly cpuNanos?: bigint;
  readonly memory?: {
    readonly usage: bigint;
    /** Usage minus inactive file cache: what the kubelet evicts on. */
    readonly workingSet: bigint;
    readonly rss: bigint;
    readonly pageFaults: bigint;
    readonly majorPageFaults: bigint;
  };
  readonly pids?: bigint;
}

type Fields = Map<number, (bigint | Uint8Array)[]>;

function fieldsOf(bytes: Uint8Array): Fields {
  const fields: Fields = new Map();
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [no, wire] = reader.tag();
    let value: bigint | Uint8Array | undefined;
    if (wire === WireType.Varint) value = BigInt(reader.uint64());
    else if (wire === WireType.LengthDelimited) value = reader.bytes();
    else reader.skip(wire);
    if (value === undefined) continue;
    const list = fields.get(no) ?? [];
    list.push(value);
    fields.set(no, list);
  }
  return fields;
}

const u64 = (f: Fields | undefined, no: number): bigint => {
  const v = f?.get(no)?.at(-1);
  return typeof v === "bigint" ? v : 0n;
};

const sub = (f: Fields | undefined, no: number): Fields | undefined => {
  const v = f?.get(no)?.at(-1);
  return v instanceof Uint8Array ? fieldsOf(v) : undefined;
};

const workingSet = (usage: bigint, inactiveFile: bigint) => (usage > inactiveFile ? usage - inactiveFile : 0n);

/** undefined for a metrics type other than cgroups v1/v2. */
export function decodeCgroupUsage(any: TypedValue): CgroupUsage | undefined {
  const name = any.typeUrl.slice(any.typeUrl.lastIndexOf("/") + 1);
  const m = fieldsOf(any.value);
  if (name === "io.containerd.cgroups.v1.Metrics") {
    // Metrics: pids 2, cpu 3 (usage 1: total 1), memory 4 (rss 2, pg_fault 9, pg_maj_fault 10,
    // total_rss 19, total_pg_fault 26, total_pg_maj_fault 27, total_inactive_file 30, usage 33: usage 2).
    const cpu = sub(sub(m, 3), 1);
    const memory = sub(m, 4);
    const pids = sub(m, 2);
    const usage = u64(sub(memory, 33), 2);
    return {
      ...(cpu ? { cpuNanos: u64(cpu, 1) } : {}),
      ...(memory
        ? { memory: { usage, workingSet: workingSet(usage, u64(memory, 30)), rss: u64(memory, 19), pageFaults: u64(memory, 26), majorPageFaults: u64(memory, 27) } }
        : {}),
      ...(pids ? { pids: u64(pids, 1) } : {}),
    };
  }
  if (name === "io.containerd.cgroups.v2.Metrics") {
    // Metrics: pids 1 (current 1), cpu 2 (usage_usec 1), memory 4 (anon 1, inactive_file 13,
    // pgfault 18, pgmajfault 19, usage 32).
    const cpu = sub(m, 2);
    const memory = sub(m, 4);
    const pids = sub(m, 1);
    const usage = u64(memory, 32);
    return {
      ...(cpu ? { cpuNanos: u64(cpu, 1) * 1000n } : {}),
      ...(memory
        ? { memory: { usage, workingSet: workingSet(usage, u64(memory, 13)), rss: u64(memory, 1), pageFaults: u64(memory, 18), majorPageFaults: u64(memory, 19) } }
        : {}),
      ...(pids ? { pids: u64(pids, 1) } : {}),
    };
  }
  return undefined;
}

import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

/**
 * The parts of a task's cgroup statistics that `ctr tasks metrics` prints. The shims send
 * containerd's cgroups types (io.containerd.cgroups.v1/v2.Metrics), which Berth's API does not
 * generate; the few fields read here are decoded from the wire by their field numbers.
 */
export type CgroupMetrics =
  | {
      readonly version: 1;
      readonly memory?: { readonly usage: bigint; readonly limit: bigint; readonly totalCache: bigint };
      readonly cpu?: { readonly total: bigint; readonly perCpu: readonly bigint[] };
      readonly pids?: { readonly current: bigint; readonly limit: bigint };
    }
  | {
      readonly version: 2;
      readonly pids?: { readonly current: bigint; readonly limit: bigint };
      readonly cpu?: {
        readonly usageUsec: bigint;
        readonly userUsec: bigint;
        readonly systemUsec: bigint;
        readonly nrPeriods: bigint;
        readonly nrThrottled: bigint;
        readonly throttledUsec: bigint;
      };
      readonly memory?: { readonly usage: bigint; readonly usageLimit: bigint; readonly swapUsage: bigint; readonly swapLimit: bigint };
    };

export const CGROUPS_V1_METRICS = "io.containerd.cgroups.v1.Metrics";
export const CGROUPS_V2_METRICS = "io.containerd.cgroups.v2.Metrics";

/** Decodes a Metric's data; undefined for a type it does not know (Windows statistics, …). */
export function decodeCgroupMetrics(any: { typeUrl: string; value: Uint8Array }): CgroupMetrics | undefined {
  const name = any.typeUrl.slice(any.typeUrl.lastIndexOf("/") + 1);
  if (name === CGROUPS_V1_METRICS) return decodeV1(any.value);
  if (name === CGROUPS_V2_METRICS) return decodeV2(any.value);
  return undefined;
}

/** Field number → the values seen (varints as bigint, length-delimited as bytes), in order. */
type Fields = Map<number, (bigint | Uint8Array)[]>;

function fieldsOf(bytes: Uint8Array): Fields {
  const fields: Fields = new Map();
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [no, wire] = reader.tag();
    let value: bigint | Uint8Array | undefined;
    switch (wire) {
      case WireType.Varint:
        value = BigInt(reader.uint64());
        break;
      case WireType.LengthDelimited:
        value = reader.bytes();
        break;
      default:
        reader.skip(wire);
    }
    if (value === undefined) continue;
    const list = fields.get(no) ?? [];
    list.push(value);
    fields.set(no, list);
  }
  return fields;
}

const u64 = (f: Fields, no: number): bigint => {
  const v = f.get(no)?.at(-1);
  return typeof v === "bigint" ? v : 0n;
};

const sub = (f: Fields, no: number): Fields | undefined => {
  const v = f.get(no)?.at(-1);
  return v instanceof Uint8Array ? fieldsOf(v) : undefined;
};

/** A repeated uint64: packed (one length-delimited run) or not. */
function repeatedU64(f: Fields, no: number): bigint[] {
  const out: bigint[] = [];
  for (const v of f.get(no) ?? []) {
    if (typeof v === "bigint") {
      out.push(v);
      continue;
    }
    const r = new BinaryReader(v);
    while (r.pos < r.len) out.push(BigInt(r.uint64()));
  }
  return out;
}

function decodeV1(bytes: Uint8Array): CgroupMetrics {
  const m = fieldsOf(bytes);
  const pids = sub(m, 2);
  const cpu = sub(m, 3);
  const cpuUsage = cpu && sub(cpu, 1);
  const memory = sub(m, 4);
  const memUsage = memory && sub(memory, 33);
  return {
    version: 1,
    ...(memory ? { memory: { usage: memUsage ? u64(memUsage, 2) : 0n, limit: memUsage ? u64(memUsage, 1) : 0n, totalCache: u64(memory, 18) } } : {}),
    ...(cpu ? { cpu: { total: cpuUsage ? u64(cpuUsage, 1) : 0n, perCpu: cpuUsage ? repeatedU64(cpuUsage, 4) : [] } } : {}),
    ...(pids ? { pids: { current: u64(pids, 1), limit: u64(pids, 2) } } : {}),
  };
}

function decodeV2(bytes: Uint8Array): CgroupMetrics {
  const m = fieldsOf(bytes);
  const pids = sub(m, 1);
  const cpu = sub(m, 2);
  const memory = sub(m, 4);
  return {
    version: 2,
    ...(pids ? { pids: { current: u64(pids, 1), limit: u64(pids, 2) } } : {}),
    ...(cpu
      ? {
          cpu: {
            usageUsec: u64(cpu, 1),
            userUsec: u64(cpu, 2),
            systemUsec: u64(cpu, 3),
            nrPeriods: u64(cpu, 4),
            nrThrottled: u64(cpu, 5),
            throttledUsec: u64(cpu, 6),
          },
        }
      : {}),
    ...(memory ? { memory: { usage: u64(memory, 32), usageLimit: u64(memory, 33), swapUsage: u64(memory, 34), swapLimit: u64(memory, 35) } } : {}),
  };
}

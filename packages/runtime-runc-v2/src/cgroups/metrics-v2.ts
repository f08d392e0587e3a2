import { join } from "node:path";
import { matchingNames, readKeyValues, readText, readUint } from "./cgroup-files.js";
import { sequentialUint64, type MessageSpec, type WireMessage } from "./metrics-wire.js";

/** io.containerd.cgroups.v2.Metrics (containerd/cgroups v2/stats/metrics.proto). */
export const METRICS_V2_TYPE = "io.containerd.cgroups.v2.Metrics";

const MEMORY_STAT_KEYS = [
  "anon", "file", "kernel_stack", "slab", "sock", "shmem", "file_mapped", "file_dirty", "file_writeback", "anon_thp",
  "inactive_anon", "active_anon", "inactive_file", "active_file", "unevictable", "slab_reclaimable", "slab_unreclaimable",
  "pgfault", "pgmajfault", "workingset_refault", "workingset_activate", "workingset_nodereclaim", "pgrefill", "pgscan",
  "pgsteal", "pgactivate", "pgdeactivate", "pglazyfree", "pglazyfreed", "thp_fault_alloc", "thp_collapse_alloc",
] as const;

export const metricsV2Spec: MessageSpec = {
  pids: [1, sequentialUint64(["current", "limit"])],
  cpu: [2, sequentialUint64(["usage_usec", "user_usec", "system_usec", "nr_periods", "nr_throttled", "throttled_usec"])],
  memory: [4, sequentialUint64([...MEMORY_STAT_KEYS, "usage", "usage_limit", "swap_usage", "swap_limit"])],
  io: [6, { usage: [1, { repeated: sequentialUint64(["major", "minor", "rbytes", "wbytes", "rios", "wios"]) }] }],
  hugetlb: [7, { repeated: { current: [1, "uint64"], max: [2, "uint64"], pagesize: [3, "string"] } }],
  memoryEvents: [8, sequentialUint64(["low", "high", "max", "oom", "oom_kill"])],
};

/** Reads a v2 cgroup's statistics into the shape of io.containerd.cgroups.v2.Metrics. */
export async function readMetricsV2(dir: string): Promise<WireMessage> {
  const [cpu, memoryStat, events] = await Promise.all([
    readKeyValues(join(dir, "cpu.stat")),
    readKeyValues(join(dir, "memory.stat")),
    readKeyValues(join(dir, "memory.events")),
  ]);
  const pidsLimit = await readUint(join(dir, "pids.max"));
  return {
    pids: { current: await readUint(join(dir, "pids.current")), limit: pidsLimit === 0xffff_ffff_ffff_ffffn ? 0n : pidsLimit },
    cpu: Object.fromEntries(cpu),
    memory: {
      ...Object.fromEntries(memoryStat),
      usage: await readUint(join(dir, "memory.current")),
      usage_limit: await readUint(join(dir, "memory.max")),
      swap_usage: await readUint(join(dir, "memory.swap.current")),
      swap_limit: await readUint(join(dir, "memory.swap.max")),
    },
    io: { usage: await readIoStat(join(dir, "io.stat")) },
    hugetlb: await readHugetlb(dir),
    memoryEvents: Object.fromEntries(events),
  };
}

// "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0"
async function readIoStat(path: string): Promise<WireMessage[]> {
  const out: WireMessage[] = [];
  for (const line of (await readText(path))?.split("\n") ?? []) {
    const [device, ...pairs] = line.trim().split(/\s+/);
    const match = device === undefined ? null : /^(\d+):(\d+)$/.exec(device);
    if (!match) continue;
    const values: Record<string, bigint> = {};
    for (const pair of pairs) {
      const [key, value] = pair.split("=");
      if (key !== undefined && value !== undefined && /^\d+$/.test(value)) values[key] = BigInt(value);
    }
    out.push({ major: BigInt(match[1]!), minor: BigInt(match[2]!), ...values });
  }
  return out;
}

async function readHugetlb(dir: string): Promise<WireMessage[]> {
  const sizes = await matchingNames(dir, /^hugetlb\.(.+)\.current$/);
  return Promise.all(
    sizes.map(async (size) => ({
      pagesize: size,
      current: await readUint(join(dir, `hugetlb.${size}.current`)),
      max: await readUint(join(dir, `hugetlb.${size}.max`)),
    })),
  );
}

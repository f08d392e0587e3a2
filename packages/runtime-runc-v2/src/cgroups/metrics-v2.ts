import { join } from "node:path";
import { cgroupsV2Metrics as v2 } from "@berth/api";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { matchingNames, readKeyValues, readText, readUint } from "./cgroup-files.js";
import { pickCounters, type CounterKey } from "./stat-counters.js";

type IOEntryInit = MessageInitShape<typeof v2.IOEntrySchema>;

// Kernel file key → message field, for the counters Berth's shim reports.
const CPU_COUNTERS: Record<string, CounterKey<v2.CPUStat>> = {
  usage_usec: "usageUsec", user_usec: "userUsec", system_usec: "systemUsec",
  nr_periods: "nrPeriods", nr_throttled: "nrThrottled", throttled_usec: "throttledUsec",
};
const MEMORY_COUNTERS: Record<string, CounterKey<v2.MemoryStat>> = {
  anon: "anon", file: "file", kernel_stack: "kernelStack", slab: "slab", sock: "sock", shmem: "shmem",
  file_mapped: "fileMapped", file_dirty: "fileDirty", file_writeback: "fileWriteback", anon_thp: "anonThp",
  inactive_anon: "inactiveAnon", active_anon: "activeAnon", inactive_file: "inactiveFile", active_file: "activeFile",
  unevictable: "unevictable", slab_reclaimable: "slabReclaimable", slab_unreclaimable: "slabUnreclaimable",
  pgfault: "pgfault", pgmajfault: "pgmajfault", workingset_refault: "workingsetRefault",
  workingset_activate: "workingsetActivate", workingset_nodereclaim: "workingsetNodereclaim", pgrefill: "pgrefill",
  pgscan: "pgscan", pgsteal: "pgsteal", pgactivate: "pgactivate", pgdeactivate: "pgdeactivate",
  pglazyfree: "pglazyfree", pglazyfreed: "pglazyfreed", thp_fault_alloc: "thpFaultAlloc", thp_collapse_alloc: "thpCollapseAlloc",
};
const MEMORY_EVENT_COUNTERS: Record<string, CounterKey<v2.MemoryEvents>> = {
  low: "low", high: "high", max: "max", oom: "oom", oom_kill: "oomKill",
};
const IO_COUNTERS: Record<string, CounterKey<v2.IOEntry>> = { rbytes: "rbytes", wbytes: "wbytes", rios: "rios", wios: "wios" };

const NO_LIMIT = 0xffff_ffff_ffff_ffffn;

/** Reads a unified cgroup's statistics as io.containerd.cgroups.v2.Metrics. */
export async function readMetricsV2(dir: string): Promise<MessageInitShape<typeof v2.MetricsSchema>> {
  const [cpu, memoryStat, events] = await Promise.all([
    readKeyValues(join(dir, "cpu.stat")),
    readKeyValues(join(dir, "memory.stat")),
    readKeyValues(join(dir, "memory.events")),
  ]);
  const pidsLimit = await readUint(join(dir, "pids.max"));
  return {
    // "max" means no limit, which containerd reports as 0.
    pids: { current: await readUint(join(dir, "pids.current")), limit: pidsLimit === NO_LIMIT ? 0n : pidsLimit },
    cpu: pickCounters(cpu, CPU_COUNTERS),
    memory: {
      ...pickCounters(memoryStat, MEMORY_COUNTERS),
      usage: await readUint(join(dir, "memory.current")),
      usageLimit: await readUint(join(dir, "memory.max")),
      swapUsage: await readUint(join(dir, "memory.swap.current")),
      swapLimit: await readUint(join(dir, "memory.swap.max")),
    },
    io: { usage: await readIoStat(join(dir, "io.stat")) },
    hugetlb: await readHugetlb(dir),
    memoryEvents: pickCounters(events, MEMORY_EVENT_COUNTERS),
  };
}

// "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0"
async function readIoStat(path: string): Promise<IOEntryInit[]> {
  const out: IOEntryInit[] = [];
  for (const line of (await readText(path))?.split("\n") ?? []) {
    const [device, ...pairs] = line.trim().split(/\s+/);
    const match = device === undefined ? null : /^(\d+):(\d+)$/.exec(device);
    if (!match) continue;
    const values = new Map<string, bigint>();
    for (const pair of pairs) {
      const [key, value] = pair.split("=");
      if (key !== undefined && value !== undefined && /^\d+$/.test(value)) values.set(key, BigInt(value));
    }
    out.push({ major: BigInt(match[1]!), minor: BigInt(match[2]!), ...pickCounters(values, IO_COUNTERS) });
  }
  return out;
}

async function readHugetlb(dir: string): Promise<MessageInitShape<typeof v2.HugeTlbStatSchema>[]> {
  const sizes = await matchingNames(dir, /^hugetlb\.(.+)\.current$/);
  return Promise.all(
    sizes.map(async (size) => ({
      pagesize: size,
      current: await readUint(join(dir, `hugetlb.${size}.current`)),
      max: await readUint(join(dir, `hugetlb.${size}.max`)),
    })),
  );
}

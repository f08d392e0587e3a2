import { join } from "node:path";
import { cgroupsV1Metrics as v1 } from "@berth/api";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { matchingNames, readKeyValues, readText, readUint, readUintList } from "./cgroup-files.js";
import { pickCounters, type CounterKey } from "./stat-counters.js";

type MetricsInit = MessageInitShape<typeof v1.MetricsSchema>;
type MemoryStatInit = MessageInitShape<typeof v1.MemoryStatSchema>;
type MemoryEntryInit = MessageInitShape<typeof v1.MemoryEntrySchema>;
type BlkIOEntryInit = MessageInitShape<typeof v1.BlkIOEntrySchema>;
type BlkIOFile = Exclude<keyof v1.BlkIOStat, "$typeName" | "$unknown">;

// memory.stat name → MemoryStat field; the total_ ones count the cgroup's descendants too.
const MEMORY_COUNTERS: Record<string, CounterKey<v1.MemoryStat>> = {
  cache: "cache", rss: "rss", rss_huge: "rssHuge", mapped_file: "mappedFile", dirty: "dirty", writeback: "writeback",
  pgpgin: "pgPgIn", pgpgout: "pgPgOut", pgfault: "pgFault", pgmajfault: "pgMajFault",
  inactive_anon: "inactiveAnon", active_anon: "activeAnon", inactive_file: "inactiveFile", active_file: "activeFile",
  unevictable: "unevictable", hierarchical_memory_limit: "hierarchicalMemoryLimit", hierarchical_memsw_limit: "hierarchicalSwapLimit",
  total_cache: "totalCache", total_rss: "totalRss", total_rss_huge: "totalRssHuge", total_mapped_file: "totalMappedFile",
  total_dirty: "totalDirty", total_writeback: "totalWriteback", total_pgpgin: "totalPgPgIn", total_pgpgout: "totalPgPgOut",
  total_pgfault: "totalPgFault", total_pgmajfault: "totalPgMajFault", total_inactive_anon: "totalInactiveAnon",
  total_active_anon: "totalActiveAnon", total_inactive_file: "totalInactiveFile", total_active_file: "totalActiveFile",
  total_unevictable: "totalUnevictable",
};
const OOM_CONTROL_COUNTERS: Record<string, CounterKey<v1.MemoryOomControl>> = {
  oom_kill_disable: "oomKillDisable", under_oom: "underOom", oom_kill: "oomKill",
};

// blkio.<file> → BlkIOStat field, in field-number order.
const BLKIO_FILES: Record<string, BlkIOFile> = {
  io_service_bytes_recursive: "ioServiceBytesRecursive", io_serviced_recursive: "ioServicedRecursive",
  io_queued_recursive: "ioQueuedRecursive", io_service_time_recursive: "ioServiceTimeRecursive",
  io_wait_time_recursive: "ioWaitTimeRecursive", io_merged_recursive: "ioMergedRecursive",
  io_time_recursive: "ioTimeRecursive", sectors_recursive: "sectorsRecursive",
};

// cpuacct.stat counts in USER_HZ, which is 100 on Linux (containerd assumes the same).
const NANOS_PER_TICK = 10_000_000n;
const NO_LIMIT = 0xffff_ffff_ffff_ffffn;

/** Reads a v1 cgroup's statistics (one directory per controller) as io.containerd.cgroups.v1.Metrics. */
export async function readMetricsV1(dirs: ReadonlyMap<string, string>): Promise<MetricsInit> {
  const dir = (controller: string) => dirs.get(controller);
  const [pids, cpu, memory, blkio, hugetlb, memoryOomControl] = await Promise.all([
    withDir(dir("pids"), readPids),
    readCpu(dir("cpuacct"), dir("cpu")),
    withDir(dir("memory"), readMemory),
    withDir(dir("blkio"), readBlkio),
    withDir(dir("hugetlb"), readHugetlb),
    withDir(dir("memory"), async (d) => pickCounters(await readKeyValues(join(d, "memory.oom_control")), OOM_CONTROL_COUNTERS)),
  ]);
  return { pids, cpu, memory, blkio, hugetlb, memoryOomControl };
}

async function withDir<T>(dir: string | undefined, read: (dir: string) => Promise<T>): Promise<T | undefined> {
  return dir === undefined ? undefined : read(dir);
}

async function readPids(dir: string): Promise<MessageInitShape<typeof v1.PidsStatSchema>> {
  const limit = await readUint(join(dir, "pids.max"));
  // "max" means no limit, which containerd reports as 0.
  return { current: await readUint(join(dir, "pids.current")), limit: limit === NO_LIMIT ? 0n : limit };
}

async function readCpu(cpuacct: string | undefined, cpu: string | undefined): Promise<MessageInitShape<typeof v1.CPUStatSchema>> {
  const stat = cpuacct ? await readKeyValues(join(cpuacct, "cpuacct.stat")) : new Map<string, bigint>();
  const throttle = cpu ? await readKeyValues(join(cpu, "cpu.stat")) : new Map<string, bigint>();
  return {
    usage: {
      total: cpuacct ? await readUint(join(cpuacct, "cpuacct.usage")) : undefined,
      kernel: (stat.get("system") ?? 0n) * NANOS_PER_TICK,
      user: (stat.get("user") ?? 0n) * NANOS_PER_TICK,
      perCpu: cpuacct ? await readUintList(join(cpuacct, "cpuacct.usage_percpu")) : [],
    },
    throttling: {
      periods: throttle.get("nr_periods"),
      throttledPeriods: throttle.get("nr_throttled"),
      throttledTime: throttle.get("throttled_time"),
    },
  };
}

async function readMemory(dir: string): Promise<MemoryStatInit> {
  const entry = async (prefix: string): Promise<MemoryEntryInit> => ({
    limit: await readUint(join(dir, `${prefix}.limit_in_bytes`)),
    usage: await readUint(join(dir, `${prefix}.usage_in_bytes`)),
    max: await readUint(join(dir, `${prefix}.max_usage_in_bytes`)),
    failcnt: await readUint(join(dir, `${prefix}.failcnt`)),
  });
  return {
    ...pickCounters(await readKeyValues(join(dir, "memory.stat")), MEMORY_COUNTERS),
    usage: await entry("memory"),
    swap: await entry("memory.memsw"),
    kernel: await entry("memory.kmem"),
    kernelTcp: await entry("memory.kmem.tcp"),
  };
}

async function readBlkio(dir: string): Promise<MessageInitShape<typeof v1.BlkIOStatSchema>> {
  // Without a proportional-weight scheduler the plain files are empty; the throttle files
  // count the same I/O, and containerd falls back to them the same way.
  const plain = (await readText(join(dir, "blkio.io_serviced_recursive")))?.trim();
  const throttled = (name: string) => !plain && (name === "io_service_bytes_recursive" || name === "io_serviced_recursive");
  const out: Partial<Record<BlkIOFile, BlkIOEntryInit[]>> = {};
  for (const [name, field] of Object.entries(BLKIO_FILES)) {
    out[field] = await readBlkioEntries(join(dir, throttled(name) ? `blkio.throttle.${name}` : `blkio.${name}`));
  }
  return out;
}

async function readBlkioEntries(path: string): Promise<BlkIOEntryInit[]> {
  const entries: BlkIOEntryInit[] = [];
  for (const line of (await readText(path))?.split("\n") ?? []) {
    const fields = line.trim().split(/\s+/);
    const [device, op, value] = fields.length === 3 ? fields : fields.length === 2 ? [fields[0], "", fields[1]] : [];
    const match = device === undefined ? null : /^(\d+):(\d+)$/.exec(device);
    if (!match || value === undefined) continue;
    entries.push({ op: op ?? "", device: await deviceName(match[1]!, match[2]!), major: BigInt(match[1]!), minor: BigInt(match[2]!), value: BigInt(value) });
  }
  return entries;
}

async function deviceName(major: string, minor: string): Promise<string> {
  const uevent = await readText(`/sys/dev/block/${major}:${minor}/uevent`);
  const name = /^DEVNAME=(.+)$/m.exec(uevent ?? "")?.[1];
  return name === undefined ? "" : `/dev/${name}`;
}

async function readHugetlb(dir: string): Promise<MessageInitShape<typeof v1.HugetlbStatSchema>[]> {
  const sizes = await matchingNames(dir, /^hugetlb\.(.+)\.usage_in_bytes$/);
  return Promise.all(
    sizes.map(async (size) => ({
      pagesize: size,
      usage: await readUint(join(dir, `hugetlb.${size}.usage_in_bytes`)),
      max: await readUint(join(dir, `hugetlb.${size}.max_usage_in_bytes`)),
      failcnt: await readUint(join(dir, `hugetlb.${size}.failcnt`)),
    })),
  );
}

import { join } from "node:path";
import { matchingNames, readKeyValues, readText, readUint, readUintList } from "./cgroup-files.js";
import { sequentialUint64, type MessageSpec, type WireMessage } from "./metrics-wire.js";

/** io.containerd.cgroups.v1.Metrics, field by field (containerd/cgroups stats/v1/metrics.proto). */
export const METRICS_V1_TYPE = "io.containerd.cgroups.v1.Metrics";

const hugetlb: MessageSpec = { usage: [1, "uint64"], max: [2, "uint64"], failcnt: [3, "uint64"], pagesize: [4, "string"] };
const pids: MessageSpec = { current: [1, "uint64"], limit: [2, "uint64"] };
const cpu: MessageSpec = {
  usage: [1, { total: [1, "uint64"], kernel: [2, "uint64"], user: [3, "uint64"], perCpu: [4, { repeated: "uint64" }] }],
  throttling: [2, sequentialUint64(["periods", "throttledPeriods", "throttledTime"])],
};
const MEMORY_STAT_KEYS = [
  "cache", "rss", "rss_huge", "mapped_file", "dirty", "writeback", "pgpgin", "pgpgout", "pgfault", "pgmajfault",
  "inactive_anon", "active_anon", "inactive_file", "active_file", "unevictable", "hierarchical_memory_limit",
  "hierarchical_memsw_limit",
] as const;
const TOTAL_KEYS = MEMORY_STAT_KEYS.slice(0, 15).map((key) => `total_${key}`);
const memoryEntry: MessageSpec = sequentialUint64(["limit", "usage", "max", "failcnt"]);
const memory: MessageSpec = {
  ...sequentialUint64([...MEMORY_STAT_KEYS, ...TOTAL_KEYS]),
  usage: [33, memoryEntry],
  swap: [34, memoryEntry],
  kernel: [35, memoryEntry],
  kernelTcp: [36, memoryEntry],
};
const blkioEntry: MessageSpec = { op: [1, "string"], device: [2, "string"], major: [3, "uint64"], minor: [4, "uint64"], value: [5, "uint64"] };
const BLKIO_FILES = [
  "io_service_bytes_recursive", "io_serviced_recursive", "io_queued_recursive", "io_service_time_recursive",
  "io_wait_time_recursive", "io_merged_recursive", "io_time_recursive", "sectors_recursive",
] as const;
const blkio: MessageSpec = Object.fromEntries(BLKIO_FILES.map((name, i) => [name, [i + 1, { repeated: blkioEntry }] as const]));
const oomControl: MessageSpec = sequentialUint64(["oom_kill_disable", "under_oom", "oom_kill"]);

export const metricsV1Spec: MessageSpec = {
  hugetlb: [1, { repeated: hugetlb }],
  pids: [2, pids],
  cpu: [3, cpu],
  memory: [4, memory],
  blkio: [5, blkio],
  memoryOomControl: [9, oomControl],
};

// cpuacct.stat counts in USER_HZ, which is 100 on Linux (containerd assumes the same).
const NANOS_PER_TICK = 10_000_000n;

/** Reads a v1 cgroup's statistics into the shape of io.containerd.cgroups.v1.Metrics. */
export async function readMetricsV1(dirs: ReadonlyMap<string, string>): Promise<WireMessage> {
  const dir = (controller: string) => dirs.get(controller);
  const [pidsStat, cpuStat, memoryStat, blkioStat, hugetlbStat, oom] = await Promise.all([
    withDir(dir("pids"), readPids),
    readCpu(dir("cpuacct"), dir("cpu")),
    withDir(dir("memory"), readMemory),
    withDir(dir("blkio"), readBlkio),
    withDir(dir("hugetlb"), readHugetlb),
    withDir(dir("memory"), async (d) => Object.fromEntries(await readKeyValues(join(d, "memory.oom_control")))),
  ]);
  return { pids: pidsStat, cpu: cpuStat, memory: memoryStat, blkio: blkioStat, hugetlb: hugetlbStat, memoryOomControl: oom };
}

async function withDir<T>(dir: string | undefined, read: (dir: string) => Promise<T>): Promise<T | undefined> {
  return dir === undefined ? undefined : read(dir);
}

async function readPids(dir: string): Promise<WireMessage> {
  const limit = await readUint(join(dir, "pids.max"));
  // "max" means no limit, which containerd reports as 0.
  return { current: await readUint(join(dir, "pids.current")), limit: limit === 0xffff_ffff_ffff_ffffn ? 0n : limit };
}

async function readCpu(cpuacct: string | undefined, cpu: string | undefined): Promise<WireMessage> {
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

async function readMemory(dir: string): Promise<WireMessage> {
  const stat = Object.fromEntries(await readKeyValues(join(dir, "memory.stat")));
  const entry = async (prefix: string): Promise<WireMessage> => ({
    limit: await readUint(join(dir, `${prefix}.limit_in_bytes`)),
    usage: await readUint(join(dir, `${prefix}.usage_in_bytes`)),
    max: await readUint(join(dir, `${prefix}.max_usage_in_bytes`)),
    failcnt: await readUint(join(dir, `${prefix}.failcnt`)),
  });
  return {
    ...stat,
    usage: await entry("memory"),
    swap: await entry("memory.memsw"),
    kernel: await entry("memory.kmem"),
    kernelTcp: await entry("memory.kmem.tcp"),
  };
}

async function readBlkio(dir: string): Promise<WireMessage> {
  // Without a proportional-weight scheduler the plain files are empty; the throttle files
  // count the same I/O, and containerd falls back to them the same way.
  const plain = (await readText(join(dir, "blkio.io_serviced_recursive")))?.trim();
  const prefix = plain ? "blkio." : "blkio.throttle.";
  const out: Record<string, WireMessage[]> = {};
  for (const name of BLKIO_FILES) {
    const file = prefix === "blkio.throttle." && (name === "io_service_bytes_recursive" || name === "io_serviced_recursive") ? `${prefix}${name}` : `blkio.${name}`;
    out[name] = await readBlkioEntries(join(dir, file));
  }
  return out;
}

async function readBlkioEntries(path: string): Promise<WireMessage[]> {
  const entries: WireMessage[] = [];
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

async function readHugetlb(dir: string): Promise<WireMessage[]> {
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

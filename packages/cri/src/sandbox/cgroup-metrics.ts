import { cgroupsV1Metrics, cgroupsV2Metrics, unpackAny } from "@berth/api";
import type { TypedValue } from "@berth/core";

/** The few numbers a pod's stats need from a shim's io.containerd.cgroups.v1/v2.Metrics. */
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

const workingSet = (usage: bigint, inactiveFile: bigint) => (usage > inactiveFile ? usage - inactiveFile : 0n);

/** undefined for a metrics type other than cgroups v1/v2. */
export function decodeCgroupUsage(any: TypedValue): CgroupUsage | undefined {
  const v1 = unpackAny(cgroupsV1Metrics.MetricsSchema, any);
  if (v1) {
    // The pod cgroup's totals, its descendants included.
    const { cpu, memory, pids } = v1;
    const usage = memory?.usage?.usage ?? 0n;
    return {
      ...(cpu?.usage ? { cpuNanos: cpu.usage.total } : {}),
      ...(memory
        ? {
            memory: {
              usage,
              workingSet: workingSet(usage, memory.totalInactiveFile),
              rss: memory.totalRss,
              pageFaults: memory.totalPgFault,
              majorPageFaults: memory.totalPgMajFault,
            },
          }
        : {}),
      ...(pids ? { pids: pids.current } : {}),
    };
  }
  const v2 = unpackAny(cgroupsV2Metrics.MetricsSchema, any);
  if (v2) {
    const { cpu, memory, pids } = v2;
    return {
      ...(cpu ? { cpuNanos: cpu.usageUsec * 1000n } : {}),
      ...(memory
        ? {
            memory: {
              usage: memory.usage,
              workingSet: workingSet(memory.usage, memory.inactiveFile),
              rss: memory.anon,
              pageFaults: memory.pgfault,
              majorPageFaults: memory.pgmajfault,
            },
          }
        : {}),
      ...(pids ? { pids: pids.current } : {}),
    };
  }
  return undefined;
}

import type { TypedValue } from "@berth/core";
import { decodeCgroupUsage } from "../sandbox/cgroup-metrics.js";

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

/**
 * A container's usage from io.containerd.cgroups.v1/v2.Metrics, decoded as a pod's are; a
 * statistic the shim left out reads as 0. Undefined for any other type.
 */
export function decodeTaskUsage(any: TypedValue): TaskUsage | undefined {
  const usage = decodeCgroupUsage(any);
  if (usage === undefined) return undefined;
  const { cpuNanos = 0n, memory } = usage;
  return {
    cpuNanos,
    memoryUsage: memory?.usage ?? 0n,
    workingSet: memory?.workingSet ?? 0n,
    rss: memory?.rss ?? 0n,
    pageFaults: memory?.pageFaults ?? 0n,
    majorPageFaults: memory?.majorPageFaults ?? 0n,
  };
}

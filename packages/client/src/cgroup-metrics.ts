import { cgroupsV1Metrics, cgroupsV2Metrics, unpackAny, type AnyPayload } from "@berth/api";

/**
 * The parts of a task's cgroup statistics that `ctr tasks metrics` prints, from the shims'
 * io.containerd.cgroups.v1/v2.Metrics. A sub-message the shim left out stays absent here.
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

export const CGROUPS_V1_METRICS = cgroupsV1Metrics.MetricsSchema.typeName;
export const CGROUPS_V2_METRICS = cgroupsV2Metrics.MetricsSchema.typeName;

/** Decodes a Metric's data; undefined for a type it does not know (Windows statistics, …). */
export function decodeCgroupMetrics(any: AnyPayload): CgroupMetrics | undefined {
  const v1 = unpackAny(cgroupsV1Metrics.MetricsSchema, any);
  if (v1) return fromV1(v1);
  const v2 = unpackAny(cgroupsV2Metrics.MetricsSchema, any);
  return v2 && fromV2(v2);
}

function fromV1({ memory, cpu, pids }: cgroupsV1Metrics.Metrics): CgroupMetrics {
  return {
    version: 1,
    ...(memory ? { memory: { usage: memory.usage?.usage ?? 0n, limit: memory.usage?.limit ?? 0n, totalCache: memory.totalCache } } : {}),
    ...(cpu ? { cpu: { total: cpu.usage?.total ?? 0n, perCpu: cpu.usage?.perCpu ?? [] } } : {}),
    ...(pids ? { pids: { current: pids.current, limit: pids.limit } } : {}),
  };
}

function fromV2({ pids, cpu, memory }: cgroupsV2Metrics.Metrics): CgroupMetrics {
  return {
    version: 2,
    ...(pids ? { pids: { current: pids.current, limit: pids.limit } } : {}),
    ...(cpu
      ? {
          cpu: {
            usageUsec: cpu.usageUsec,
            userUsec: cpu.userUsec,
            systemUsec: cpu.systemUsec,
            nrPeriods: cpu.nrPeriods,
            nrThrottled: cpu.nrThrottled,
            throttledUsec: cpu.throttledUsec,
          },
        }
      : {}),
    ...(memory ? { memory: { usage: memory.usage, usageLimit: memory.usageLimit, swapUsage: memory.swapUsage, swapLimit: memory.swapLimit } } : {}),
  };
}

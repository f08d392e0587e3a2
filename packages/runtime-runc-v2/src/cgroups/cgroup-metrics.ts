import { cgroupsV1Metrics, cgroupsV2Metrics, packAny, type AnyPayload } from "@berth/api";
import type { ContainerCgroup } from "./cgroup-paths.js";
import { readMetricsV1 } from "./metrics-v1.js";
import { readMetricsV2 } from "./metrics-v2.js";

/**
 * A container's cgroup statistics as the Any containerd's runc shim returns from Stats:
 * io.containerd.cgroups.v1.Metrics on v1 (and hybrid) hosts, v2.Metrics on unified ones.
 */
export async function cgroupMetrics(cgroup: ContainerCgroup): Promise<AnyPayload> {
  if (cgroup.version === 1) return packAny(cgroupsV1Metrics.MetricsSchema, await readMetricsV1(cgroup.dirs));
  return packAny(cgroupsV2Metrics.MetricsSchema, await readMetricsV2(cgroup.dir));
}

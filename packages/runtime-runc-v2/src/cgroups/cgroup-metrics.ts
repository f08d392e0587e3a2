import type { ContainerCgroup } from "./cgroup-paths.js";
import { readMetricsV1, metricsV1Spec, METRICS_V1_TYPE } from "./metrics-v1.js";
import { readMetricsV2, metricsV2Spec, METRICS_V2_TYPE } from "./metrics-v2.js";
import { encodeMessage } from "./metrics-wire.js";

/**
 * A container's cgroup statistics as the Any containerd's runc shim returns from Stats:
 * io.containerd.cgroups.v1.Metrics on v1 (and hybrid) hosts, v2.Metrics on unified ones.
 */
export async function cgroupMetrics(cgroup: ContainerCgroup): Promise<{ typeUrl: string; value: Uint8Array }> {
  if (cgroup.version === 1) return { typeUrl: METRICS_V1_TYPE, value: encodeMessage(metricsV1Spec, await readMetricsV1(cgroup.dirs)) };
  return { typeUrl: METRICS_V2_TYPE, value: encodeMessage(metricsV2Spec, await readMetricsV2(cgroup.dir)) };
}

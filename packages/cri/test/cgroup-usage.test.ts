// CRI stats from the shims' cgroup metrics, as containerd's CRI reads them (totals on v1,
// anon/pgfault/pgmajfault on v2, working set = usage - inactive file).
import { cgroupsV1Metrics, cgroupsV2Metrics, packAny } from "@berth/api";
import { describe, expect, it } from "vitest";
import { decodeTaskUsage } from "../src/container/task-metrics.js";
import { decodeCgroupUsage } from "../src/sandbox/cgroup-metrics.js";

describe("cgroup usage for CRI stats", () => {
  it("v1: CPU total, memory totals of the cgroup and its descendants, pids", () => {
    const any = packAny(cgroupsV1Metrics.MetricsSchema, {
      cpu: { usage: { total: 5_000n, perCpu: [2_000n, 3_000n] } },
      memory: {
        usage: { usage: 10_000n, limit: 1n << 62n },
        rss: 1n, pgFault: 2n, pgMajFault: 3n, inactiveFile: 4n,
        totalRss: 700n, totalPgFault: 80n, totalPgMajFault: 9n, totalInactiveFile: 2_500n,
      },
      pids: { current: 3n, limit: 64n },
    });
    expect(decodeCgroupUsage(any)).toEqual({
      cpuNanos: 5_000n,
      memory: { usage: 10_000n, workingSet: 7_500n, rss: 700n, pageFaults: 80n, majorPageFaults: 9n },
      pids: 3n,
    });
    expect(decodeTaskUsage(any)).toEqual({ cpuNanos: 5_000n, memoryUsage: 10_000n, workingSet: 7_500n, rss: 700n, pageFaults: 80n, majorPageFaults: 9n });
  });

  it("v2: usage_usec in nanoseconds, anon as RSS, inactive_file for the working set", () => {
    const any = packAny(cgroupsV2Metrics.MetricsSchema, {
      cpu: { usageUsec: 42n, userUsec: 40n },
      // Neighbouring counters set too, so a wrong field cannot pass for the right one.
      memory: { usage: 9_000n, anon: 600n, inactiveFile: 1_000n, fileWriteback: 7n, pgfault: 50n, pgmajfault: 5n, pgrefill: 11n, pgscan: 12n },
      pids: { current: 2n },
    });
    expect(decodeCgroupUsage({ ...any, typeUrl: `type.googleapis.com/${any.typeUrl}` })).toEqual({
      cpuNanos: 42_000n,
      memory: { usage: 9_000n, workingSet: 8_000n, rss: 600n, pageFaults: 50n, majorPageFaults: 5n },
      pids: 2n,
    });
    expect(decodeTaskUsage(any)).toEqual({ cpuNanos: 42_000n, memoryUsage: 9_000n, workingSet: 8_000n, rss: 600n, pageFaults: 50n, majorPageFaults: 5n });
  });

  it("leaves out what the shim left out; a working set never goes below zero", () => {
    const any = packAny(cgroupsV1Metrics.MetricsSchema, { memory: { usage: { usage: 10n }, totalInactiveFile: 20n } });
    expect(decodeCgroupUsage(any)).toEqual({ memory: { usage: 10n, workingSet: 0n, rss: 0n, pageFaults: 0n, majorPageFaults: 0n } });
    expect(decodeCgroupUsage(packAny(cgroupsV2Metrics.MetricsSchema, {}))).toEqual({});
    expect(decodeTaskUsage(packAny(cgroupsV2Metrics.MetricsSchema, {}))).toEqual({ cpuNanos: 0n, memoryUsage: 0n, workingSet: 0n, rss: 0n, pageFaults: 0n, majorPageFaults: 0n });
  });

  it("does not guess at other types", () => {
    const windows = { typeUrl: "io.containerd.windows.Statistics", value: new Uint8Array([8, 1]) };
    expect(decodeCgroupUsage(windows)).toBeUndefined();
    expect(decodeTaskUsage(windows)).toBeUndefined();
  });
});

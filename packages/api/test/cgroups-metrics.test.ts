// containerd/cgroups' metrics messages, checked against bytes assembled by hand from their
// field numbers: what runc shims put in a task Metric's data.
import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { cgroupsV1Metrics, cgroupsV2Metrics, packAny } from "../src/index.js";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("cgroup metrics on the wire", () => {
  it("v1: cpu (3) → usage (1) → per_cpu (4, packed, zeros kept); memory (4) → usage (33) → limit (1)", () => {
    const m = create(cgroupsV1Metrics.MetricsSchema, { cpu: { usage: { perCpu: [1n, 0n, 2n] } }, memory: { usage: { limit: 1n } } });
    expect(hex(toBinary(cgroupsV1Metrics.MetricsSchema, m))).toBe("1a070a052203010002" + "22058a02020801");
  });

  it("v2: cpu (2) → usage_usec (1); memory (4) → usage (32)", () => {
    const m = create(cgroupsV2Metrics.MetricsSchema, { cpu: { usageUsec: 5n }, memory: { usage: 7n } });
    expect(hex(toBinary(cgroupsV2Metrics.MetricsSchema, m))).toBe("12020805" + "2203800207");
  });

  it("pack under containerd's type names", () => {
    expect(packAny(cgroupsV1Metrics.MetricsSchema, {}).typeUrl).toBe("io.containerd.cgroups.v1.Metrics");
    expect(packAny(cgroupsV2Metrics.MetricsSchema, {}).typeUrl).toBe("io.containerd.cgroups.v2.Metrics");
  });
});

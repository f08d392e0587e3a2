import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import { decodeCgroupMetrics } from "../src/index.js";

// Messages written field by field with containerd's cgroups field numbers
// (vendor/github.com/containerd/cgroups/v3/cgroup{1,2}/stats/metrics.proto).
const message = (build: (w: BinaryWriter) => void) => {
  const w = new BinaryWriter();
  build(w);
  return w.finish();
};

describe("decodeCgroupMetrics", () => {
  it("reads cgroups v1 memory, cpu (per-cpu packed) and pids", () => {
    const usage = message((w) => w.tag(1, WireType.Varint).uint64(9000n).tag(2, WireType.Varint).uint64(4096n));
    const memory = message((w) => w.tag(18, WireType.Varint).uint64(12n).tag(33, WireType.LengthDelimited).bytes(usage));
    const cpuUsage = message((w) => {
      w.tag(1, WireType.Varint).uint64(300n);
      w.tag(4, WireType.LengthDelimited).fork().uint64(100n).uint64(200n).join();
    });
    const cpu = message((w) => w.tag(1, WireType.LengthDelimited).bytes(cpuUsage));
    const pids = message((w) => w.tag(1, WireType.Varint).uint64(3n).tag(2, WireType.Varint).uint64(64n));
    const value = message((w) => w.tag(2, WireType.LengthDelimited).bytes(pids).tag(3, WireType.LengthDelimited).bytes(cpu).tag(4, WireType.LengthDelimited).bytes(memory));
    expect(decodeCgroupMetrics({ typeUrl: "io.containerd.cgroups.v1.Metrics", value })).toEqual({
      version: 1,
      memory: { usage: 4096n, limit: 9000n, totalCache: 12n },
      cpu: { total: 300n, perCpu: [100n, 200n] },
      pids: { current: 3n, limit: 64n },
    });
  });

  it("reads cgroups v2 pids, cpu and memory, skipping fields it does not use or know", () => {
    // cpu.psi (7) holds an empty PSIStats.some; field 99 is in no version of the message.
    const cpu = message((w) => w.tag(1, WireType.Varint).uint64(50n).tag(2, WireType.Varint).uint64(30n).tag(3, WireType.Varint).uint64(20n).tag(7, WireType.LengthDelimited).bytes(new Uint8Array([0x0a, 0x00])).tag(99, WireType.Varint).uint64(1n));
    const memory = message((w) => w.tag(1, WireType.Varint).uint64(7n).tag(32, WireType.Varint).uint64(1234n).tag(33, WireType.Varint).uint64(99999n));
    const value = message((w) => w.tag(2, WireType.LengthDelimited).bytes(cpu).tag(4, WireType.LengthDelimited).bytes(memory).tag(8, WireType.LengthDelimited).bytes(new Uint8Array()));
    expect(decodeCgroupMetrics({ typeUrl: "type.googleapis.com/io.containerd.cgroups.v2.Metrics", value })).toEqual({
      version: 2,
      cpu: { usageUsec: 50n, userUsec: 30n, systemUsec: 20n, nrPeriods: 0n, nrThrottled: 0n, throttledUsec: 0n },
      memory: { usage: 1234n, usageLimit: 99999n, swapUsage: 0n, swapLimit: 0n },
    });
  });

  it("does not guess at other types", () => {
    expect(decodeCgroupMetrics({ typeUrl: "io.containerd.windows.Statistics", value: new Uint8Array() })).toBeUndefined();
  });
});

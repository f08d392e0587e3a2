// The shim's Stats payload, read from directories laid out like cgroupfs (the files written
// in the kernel's formats) and decoded with the generated containerd schemas.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cgroupsV1Metrics, cgroupsV2Metrics, unpackAny } from "@berth/api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cgroupMetrics } from "../src/index.js";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "berth-cgroup-metrics-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function files(dir: string, contents: Record<string, string>): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(contents)) await writeFile(join(dir, name), text);
  return dir;
}

describe("cgroup metrics", () => {
  it("v2: counters by kernel name, 'max' limits, io.stat and hugetlb, beyond 2^53", async () => {
    const dir = await files(join(root, "unified"), {
      "cpu.stat": "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 0\nnr_throttled 2\nthrottled_usec 9\nnr_bursts 4\n",
      "memory.stat": "anon 4096\ninactive_file 1024\npgfault 77\npgmajfault 3\nworkingset_refault 5\nsome_future_key 1\n",
      "memory.events": "low 0\nhigh 1\nmax 2\noom 3\noom_kill 4\n",
      "pids.current": "3\n",
      "pids.max": "max\n",
      "memory.current": "18446744073709551600\n",
      "memory.max": "max\n",
      "io.stat": "8:0 rbytes=10 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n8:16 rbytes=0 wbytes=20 rios=0 wios=2\n",
      "hugetlb.2MB.current": "2097152\n",
      "hugetlb.2MB.max": "max\n",
    });
    const any = await cgroupMetrics({ version: 2, dir });
    expect(any.typeUrl).toBe("io.containerd.cgroups.v2.Metrics");
    const m = unpackAny(cgroupsV2Metrics.MetricsSchema, any)!;
    expect(m.pids).toMatchObject({ current: 3n, limit: 0n });
    expect(m.cpu).toMatchObject({ usageUsec: 1500n, userUsec: 1000n, systemUsec: 500n, nrPeriods: 0n, nrThrottled: 2n, throttledUsec: 9n });
    expect(m.memory).toMatchObject({ anon: 4096n, inactiveFile: 1024n, pgfault: 77n, pgmajfault: 3n, workingsetRefault: 5n });
    expect(m.memory?.usage).toBe(0xffff_ffff_ffff_fff0n);
    expect(m.memory?.usageLimit).toBe(0xffff_ffff_ffff_ffffn);
    expect(m.memoryEvents).toMatchObject({ high: 1n, max: 2n, oom: 3n, oomKill: 4n });
    expect(m.io?.usage.map(({ major, minor, rbytes, wbytes, rios, wios }) => [major, minor, rbytes, wbytes, rios, wios])).toEqual([
      [8n, 0n, 10n, 0n, 1n, 0n],
      [8n, 16n, 0n, 20n, 0n, 2n],
    ]);
    expect(m.hugetlb.map(({ pagesize, current, max }) => [pagesize, current, max])).toEqual([["2MB", 2097152n, 0xffff_ffff_ffff_ffffn]]);
  });

  it("v1: one directory per controller; per-CPU zeros kept in place; absent controllers absent", async () => {
    const cpuacct = await files(join(root, "cpuacct"), {
      "cpuacct.usage": "3000000000\n",
      "cpuacct.stat": "user 150\nsystem 50\n",
      "cpuacct.usage_percpu": "2000000000 0 1000000000 \n",
    });
    const cpu = await files(join(root, "cpu"), { "cpu.stat": "nr_periods 10\nnr_throttled 1\nthrottled_time 5000\n" });
    const memory = await files(join(root, "memory"), {
      "memory.stat": "cache 100\nrss 200\npgpgin 7\npgmajfault 1\nhierarchical_memsw_limit 9223372036854771712\ntotal_rss 300\ntotal_pgfault 40\ntotal_inactive_file 50\n",
      "memory.limit_in_bytes": "1073741824\n",
      "memory.usage_in_bytes": "4096\n",
      "memory.max_usage_in_bytes": "8192\n",
      "memory.failcnt": "0\n",
      "memory.memsw.usage_in_bytes": "5000\n",
      "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
    });
    const pids = await files(join(root, "pids"), { "pids.current": "4\n", "pids.max": "512\n" });
    const any = await cgroupMetrics({ version: 1, dirs: new Map([["cpuacct", cpuacct], ["cpu", cpu], ["memory", memory], ["pids", pids]]) });
    expect(any.typeUrl).toBe("io.containerd.cgroups.v1.Metrics");
    const m = unpackAny(cgroupsV1Metrics.MetricsSchema, any)!;
    expect(m.cpu?.usage).toMatchObject({ total: 3_000_000_000n, user: 1_500_000_000n, kernel: 500_000_000n, perCpu: [2_000_000_000n, 0n, 1_000_000_000n] });
    expect(m.cpu?.throttling).toMatchObject({ periods: 10n, throttledPeriods: 1n, throttledTime: 5000n });
    expect(m.memory).toMatchObject({ cache: 100n, rss: 200n, pgPgIn: 7n, pgMajFault: 1n, hierarchicalSwapLimit: 9223372036854771712n, totalRss: 300n, totalPgFault: 40n, totalInactiveFile: 50n });
    expect(m.memory?.usage).toMatchObject({ limit: 1073741824n, usage: 4096n, max: 8192n, failcnt: 0n });
    expect(m.memory?.swap?.usage).toBe(5000n);
    expect(m.memoryOomControl).toMatchObject({ oomKillDisable: 0n, underOom: 0n, oomKill: 2n });
    expect(m.pids).toMatchObject({ current: 4n, limit: 512n });
    expect(m.blkio).toBeUndefined();
    expect(m.hugetlb).toEqual([]);
  });
});

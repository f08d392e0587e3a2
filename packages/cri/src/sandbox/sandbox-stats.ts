import { readFile } from "node:fs/promises";
import type { criApi } from "@berth/api";
import { failedPrecondition, type PlatformRuntime } from "@berth/core";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { criOpContext } from "../state/k8s-namespace.js";
import { decodeCgroupUsage } from "./cgroup-metrics.js";
import { unixNanos } from "./convert-sandbox.js";
import type { PodSandbox } from "./pod-sandbox.js";

type PodStats = MessageInitShape<typeof criApi.PodSandboxStatsSchema>;

/**
 * A pod's stats: CPU, memory and process count from the pause task's cgroup (the pod-level
 * cgroup holds only the pause process with the cgroupfs layout here, so containers add their
 * own via ContainerStats), and network counters of the pod's interfaces read from
 * /proc/<pause pid>/net/dev, which shows the pod's netns.
 */
export async function podSandboxStats(runtime: PlatformRuntime | undefined, pod: PodSandbox, signal: AbortSignal): Promise<PodStats> {
  if (runtime === undefined) throw failedPrecondition("cri: no task runtime is loaded");
  if (pod.status.state !== "ready") throw failedPrecondition(`sandbox ${pod.id} is not ready`);
  const task = await runtime.get(criOpContext(signal), pod.id);
  const metrics = await task.stats(signal);
  const usage = metrics !== undefined ? decodeCgroupUsage(metrics) : undefined;
  const now = unixNanos(new Date());
  const u = (value: bigint) => ({ value });
  return {
    attributes: { id: pod.id, metadata: pod.config.metadata, labels: pod.config.labels, annotations: pod.config.annotations },
    linux: {
      ...(usage?.cpuNanos !== undefined ? { cpu: { timestamp: now, usageCoreNanoSeconds: u(usage.cpuNanos) } } : {}),
      ...(usage?.memory !== undefined
        ? {
            memory: {
              timestamp: now,
              workingSetBytes: u(usage.memory.workingSet),
              usageBytes: u(usage.memory.usage),
              rssBytes: u(usage.memory.rss),
              pageFaults: u(usage.memory.pageFaults),
              majorPageFaults: u(usage.memory.majorPageFaults),
            },
          }
        : {}),
      ...(usage?.pids !== undefined ? { process: { timestamp: now, processCount: u(usage.pids) } } : {}),
      ...(pod.namespaces.network === "pod" && pod.status.pid > 0 ? { network: await networkUsage(pod.status.pid, now) } : {}),
      containers: [],
    },
  };
}

/** Counters per interface from /proc/<pid>/net/dev; eth0 is the default interface, lo is left out. */
async function networkUsage(pid: number, timestamp: bigint): Promise<MessageInitShape<typeof criApi.NetworkUsageSchema>> {
  const text = await readFile(`/proc/${pid}/net/dev`, "utf8").catch(() => "");
  const interfaces = [];
  for (const line of text.split("\n").slice(2)) {
    const [name, counters] = line.split(":");
    if (counters === undefined) continue;
    const iface = name!.trim();
    if (iface === "lo") continue;
    const n = counters.trim().split(/\s+/).map((v) => BigInt(v));
    // Receive: bytes packets errs …(8 columns); transmit: bytes packets errs …
    interfaces.push({ name: iface, rxBytes: { value: n[0] ?? 0n }, rxErrors: { value: n[2] ?? 0n }, txBytes: { value: n[8] ?? 0n }, txErrors: { value: n[10] ?? 0n } });
  }
  return { timestamp, defaultInterface: interfaces.find((i) => i.name === "eth0"), interfaces };
}

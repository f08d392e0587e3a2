import { readFileSync } from "node:fs";
import type { criApi } from "@berth/api";
import type { LinuxResources, SpecOpt } from "@berth/oci";

/**
 * The CRI's LinuxContainerResources as the spec's LinuxResources: zero means "not set", as in
 * containerd; a memory limit without a swap limit also caps swap where the host accounts it.
 * Hugepage limits are passed on as asked.
 */
export function criResourcesToOci(r: criApi.LinuxContainerResources, into: LinuxResources = {}): LinuxResources {
  const cpu = (into.cpu ??= {});
  const memory = (into.memory ??= {});
  if (r.cpuPeriod !== 0n) cpu.period = Number(r.cpuPeriod);
  if (r.cpuQuota !== 0n) cpu.quota = Number(r.cpuQuota);
  if (r.cpuShares !== 0n) cpu.shares = Number(r.cpuShares);
  if (r.cpusetCpus !== "") cpu.cpus = r.cpusetCpus;
  if (r.cpusetMems !== "") cpu.mems = r.cpusetMems;
  if (r.memoryLimitInBytes !== 0n) {
    memory.limit = Number(r.memoryLimitInBytes);
    if (r.memorySwapLimitInBytes === 0n && swapAccounted()) memory.swap = Number(r.memoryLimitInBytes);
  }
  if (r.memorySwapLimitInBytes !== 0n && swapAccounted()) memory.swap = Number(r.memorySwapLimitInBytes);
  for (const h of r.hugepageLimits) (into.hugepageLimits ??= []).push({ pageSize: h.pageSize, limit: Number(h.limit) });
  if (Object.keys(r.unified).length > 0) into.unified = { ...(into.unified ?? {}), ...r.unified };
  return into;
}

export function withCriResources(r: criApi.LinuxContainerResources | undefined): SpecOpt {
  return (spec) => {
    if (r === undefined) return;
    const linux = (spec.linux ??= {});
    linux.resources = criResourcesToOci(r, linux.resources ?? {});
  };
}

/** cgroup v1 accounts swap only with memory.memsw.* (swapaccount=1); v2 with memory.swap.max. */
function swapAccounted(): boolean {
  for (const probe of ["/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", "/sys/fs/cgroup/memory.swap.max"]) {
    try {
      readFileSync(probe);
      return true;
    } catch {
      // not this layout
    }
  }
  return false;
}

/** The daemon's own oom_score_adj: a process without CAP_SYS_RESOURCE cannot give a child less. */
export function currentOomScoreAdj(): number {
  return Number(readFileSync("/proc/self/oom_score_adj", "utf8").trim());
}

/** The container's oom_score_adj, raised to the daemon's own when `restrict` (restrict_oom_score_adj). */
export function withCriOomScoreAdj(r: criApi.LinuxContainerResources | undefined, restrict: boolean): SpecOpt {
  return (spec) => {
    if (r === undefined || spec.process === undefined) return;
    let adj = Number(r.oomScoreAdj);
    if (restrict) adj = Math.max(adj, currentOomScoreAdj());
    spec.process.oomScoreAdj = adj;
  };
}

/**
 * The container's cgroup below the pod's parent: `parent/id` for cgroupfs, or systemd's
 * `slice:prefix:name` form when the parent is a slice.
 */
export function cgroupsPathFor(parent: string, id: string): string {
  if (parent.endsWith(".slice")) return `${parent}:cri-containerd:${id}`;
  return `${parent.replace(/\/+$/, "")}/${id}`;
}

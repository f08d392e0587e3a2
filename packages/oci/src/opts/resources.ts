import { invalidArgument } from "@berth/core";
import { cpuOf, memoryOf, resourcesOf } from "../spec-parts.js";
import type { SpecOpt } from "../spec-opt.js";

function requireInteger(what: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) throw invalidArgument(`${what} must be an integer >= ${min}, got ${value}`);
}

/** Memory limit in bytes. No-op for a spec without a linux section, as in containerd. */
export function withMemoryLimit(bytes: number): SpecOpt {
  requireInteger("memory limit", bytes, 0);
  return (spec) => {
    if (!spec.linux) return;
    memoryOf(spec).limit = bytes;
  };
}

/** Memory plus swap limit in bytes (-1: unlimited swap). */
export function withMemorySwap(bytes: number): SpecOpt {
  requireInteger("memory swap", bytes, -1);
  return (spec) => {
    if (!spec.linux) return;
    memoryOf(spec).swap = bytes;
  };
}

/** Relative CPU weight (cgroup v1 cpu.shares; runc converts it for v2). */
export function withCPUShares(shares: number): SpecOpt {
  requireInteger("cpu shares", shares, 0);
  return (spec) => {
    if (!spec.linux) return;
    cpuOf(spec).shares = shares;
  };
}

/** The CPUs the container may run on, as a cpuset list ("0-1,3"). */
export function withCPUs(cpus: string): SpecOpt {
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(cpus)) throw invalidArgument(`cpuset ${JSON.stringify(cpus)} is not a CPU list such as "0-1,3"`);
  return (spec) => {
    if (!spec.linux) return;
    cpuOf(spec).cpus = cpus;
  };
}

/** The memory nodes the container may allocate from, as a list ("0-1"). */
export function withCPUsMems(mems: string): SpecOpt {
  return (spec) => {
    if (!spec.linux) return;
    cpuOf(spec).mems = mems;
  };
}

/** CFS bandwidth: at most `quota` µs of CPU time per `period` µs (quota -1: unlimited). */
export function withCPUCFS(quota: number, period: number): SpecOpt {
  requireInteger("cpu quota", quota, -1);
  requireInteger("cpu period", period, 0);
  return (spec) => {
    if (!spec.linux) return;
    const cpu = cpuOf(spec);
    cpu.quota = quota;
    cpu.period = period;
  };
}

/** `cpus` CPUs' worth of time (e.g. 1.5), as `ctr run --cpus` sets it: a 100 ms CFS period. */
export function withCPUCount(cpus: number): SpecOpt {
  if (!(cpus > 0)) throw invalidArgument(`cpus must be positive, got ${cpus}`);
  const period = 100_000;
  return withCPUCFS(Math.trunc(cpus * period), period);
}

/** At most `limit` tasks (processes and threads) in the container. */
export function withPidsLimit(limit: number): SpecOpt {
  requireInteger("pids limit", limit, -1);
  return (spec) => {
    if (!spec.linux) return;
    resourcesOf(spec).pids = { limit };
  };
}

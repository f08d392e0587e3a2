import { readFile } from "node:fs/promises";

/** containerd's oom_score_adj for the pause process: the kubelet's value for critical pods. */
export const SANDBOX_OOM_SCORE_ADJ = -998;

// Bit 24 of the capability sets is CAP_SYS_RESOURCE (linux/capability.h).
const CAP_SYS_RESOURCE = 24n;

/**
 * Whether a process started by this one may get an oom_score_adj below this process's own.
 * That needs CAP_SYS_RESOURCE; root on some VMs lacks it, and runc then fails to start any
 * sandbox asking for -998.
 */
export async function canLowerOomScoreAdj(): Promise<boolean> {
  const status = await readFile("/proc/self/status", "utf8");
  const line = status.split("\n").find((l) => l.startsWith("CapEff:"));
  if (line === undefined) return false;
  return ((BigInt(`0x${line.slice("CapEff:".length).trim()}`) >> CAP_SYS_RESOURCE) & 1n) === 1n;
}

export async function currentOomScoreAdj(): Promise<number> {
  return Number.parseInt((await readFile("/proc/self/oom_score_adj", "utf8")).trim(), 10);
}

/**
 * The value to ask for: `wanted`, raised to this process's own when restricted (configured, or
 * found necessary), since without CAP_SYS_RESOURCE a child cannot go lower than its parent.
 */
export async function podOomScoreAdj(wanted: number, restrict: boolean): Promise<number> {
  if (!restrict && (await canLowerOomScoreAdj())) return wanted;
  return Math.max(wanted, await currentOomScoreAdj());
}

import { internal } from "@berth/core";
import type { NetworkConfigList } from "./network-config.js";
import { execPlugin, type CniCommand } from "./plugin-exec.js";
import { formatCniArgs, pluginStdin, type CapabilityArgs, type CniArgs } from "./runtime-args.js";

/** One network's chain run against one container's interface. */
export interface ChainRun {
  readonly list: NetworkConfigList;
  readonly binDirs: readonly string[];
  readonly containerId: string;
  readonly netns: string;
  readonly ifName: string;
  readonly args: CniArgs;
  readonly capabilities: CapabilityArgs;
  readonly signal?: AbortSignal | undefined;
}

/** ADD through the chain in order, each plugin getting the previous one's result; returns the last result. */
export async function addChain(run: ChainRun): Promise<unknown> {
  let result: unknown;
  for (const plugin of run.list.plugins) {
    result = await invoke(run, "ADD", plugin.type, pluginStdin(run.list, plugin, result, run.capabilities));
    if (result === undefined) {
      throw internal(`cni plugin "${plugin.type}" ADD (network "${run.list.name}") printed no result`);
    }
  }
  return result;
}

/** CHECK through the chain in order, each plugin getting the cached ADD result. */
export async function checkChain(run: ChainRun, cachedResult: unknown): Promise<void> {
  for (const plugin of run.list.plugins) {
    await invoke(run, "CHECK", plugin.type, pluginStdin(run.list, plugin, cachedResult, run.capabilities));
  }
}

/** DEL through the chain in reverse. The cached result goes along only where the spec defines it (≥ 0.4.0). */
export async function delChain(run: ChainRun, cachedResult: unknown): Promise<void> {
  const prev = supportsPrevResultOnDel(run.list.cniVersion) ? cachedResult : undefined;
  for (const plugin of [...run.list.plugins].reverse()) {
    await invoke(run, "DEL", plugin.type, pluginStdin(run.list, plugin, prev, run.capabilities));
  }
}

/** CHECK, and a prevResult on DEL, came with spec 0.4.0. */
export function supportsPrevResultOnDel(cniVersion: string): boolean {
  return compareVersions(cniVersion, "0.4.0") >= 0;
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function invoke(run: ChainRun, command: CniCommand, pluginType: string, stdin: Record<string, unknown>): Promise<unknown> {
  return execPlugin({
    command,
    pluginType,
    network: run.list.name,
    ifName: run.ifName,
    binDirs: run.binDirs,
    containerId: run.containerId,
    netns: run.netns,
    args: formatCniArgs(run.args),
    stdin,
    signal: run.signal,
  });
}

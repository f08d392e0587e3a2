import { readdir } from "node:fs/promises";

export interface NetworkCondition {
  readonly ready: boolean;
  readonly reason: string;
  readonly message: string;
}

/**
 * Whether pods can get a network: Status reports it as the NetworkReady condition, and the
 * kubelet schedules no pod (but host-network ones) while it is false. The sandbox side replaces
 * the default with its CNI manager's view (config loaded, plugins present).
 */
export interface NetworkReadiness {
  check(signal: AbortSignal): Promise<NetworkCondition>;
}

const CONFIG_EXTENSIONS = [".conf", ".conflist", ".json"];

/** Ready when the CNI config directory holds a network config, as libcni looks for one. */
export function cniConfigReadiness(confDir: string): NetworkReadiness {
  return {
    async check() {
      const names = await readdir(confDir).catch(() => [] as string[]);
      if (names.some((n) => CONFIG_EXTENSIONS.some((ext) => n.endsWith(ext)))) return { ready: true, reason: "", message: "" };
      // containerd's reason and message, which the kubelet and critest show as they are.
      return { ready: false, reason: "NetworkPluginNotReady", message: `Network plugin returns error: cni plugin not initialized (no network config in ${confDir})` };
    },
  };
}

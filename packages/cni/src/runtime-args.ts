import type { NetworkConfigList, PluginConfig } from "./network-config.js";

/** A host port forwarded to the pod (the `portMappings` capability, as portmap reads it). */
export interface PortMapping {
  readonly hostPort: number;
  readonly containerPort: number;
  readonly protocol: "tcp" | "udp" | "sctp";
  /** Empty or absent: every host address. */
  readonly hostIP?: string;
}

/** Traffic shaping (the `bandwidth` capability); rates in bits per second, bursts in bits. */
export interface BandwidthLimits {
  readonly ingressRate?: number;
  readonly ingressBurst?: number;
  readonly egressRate?: number;
  readonly egressBurst?: number;
}

/** The pod's resolver settings (the `dns` capability). */
export interface DnsCapability {
  readonly servers?: readonly string[];
  readonly searches?: readonly string[];
  readonly options?: readonly string[];
}

/**
 * Capability arguments from the runtime. Each reaches a plugin's `runtimeConfig` only when
 * that plugin declares the capability in its config; any other well-known capability
 * (`ipRanges`, `mac`, `io.kubernetes.cri.pod-annotations`, …) passes through by name.
 */
export interface CapabilityArgs {
  readonly portMappings?: readonly PortMapping[];
  readonly bandwidth?: BandwidthLimits;
  readonly dns?: DnsCapability;
  readonly [capability: string]: unknown;
}

/** CNI_ARGS as ordered pairs. */
export type CniArgs = readonly (readonly [string, string])[];

/** The pod identity the Kubernetes plugins expect in CNI_ARGS, in containerd's order. */
export interface PodIdentity {
  readonly namespace: string;
  readonly name: string;
  /** The sandbox (pause) container's id. */
  readonly infraContainerId: string;
  readonly uid?: string;
}

export function kubernetesPodArgs(pod: PodIdentity): CniArgs {
  return [
    ["K8S_POD_NAMESPACE", pod.namespace],
    ["K8S_POD_NAME", pod.name],
    ["K8S_POD_INFRA_CONTAINER_ID", pod.infraContainerId],
    ...(pod.uid !== undefined ? [["K8S_POD_UID", pod.uid] as const] : []),
  ];
}

/**
 * Joins args into CNI_ARGS. IgnoreUnknown=1 comes first unless given, so plugins that do not
 * know the Kubernetes keys accept them instead of failing.
 */
export function formatCniArgs(args: CniArgs): string {
  const all = args.some(([k]) => k === "IgnoreUnknown") ? args : [["IgnoreUnknown", "1"] as const, ...args];
  return all.map(([k, v]) => `${k}=${v}`).join(";");
}

/**
 * What one plugin of a chain reads on stdin: its own object with the list's name and version
 * (every plugin of a chain speaks the list's version), the previous plugin's result, and the
 * capability args it declared.
 */
export function pluginStdin(
  list: NetworkConfigList,
  plugin: PluginConfig,
  prevResult: unknown,
  capabilities: CapabilityArgs,
): Record<string, unknown> {
  const stdin: Record<string, unknown> = { ...plugin.raw, name: list.name, cniVersion: list.cniVersion };
  if (prevResult !== undefined) stdin.prevResult = prevResult;
  const runtimeConfig: Record<string, unknown> = {};
  for (const cap of plugin.capabilities) {
    if (capabilities[cap] !== undefined) runtimeConfig[cap] = capabilities[cap];
  }
  if (Object.keys(runtimeConfig).length > 0) stdin.runtimeConfig = runtimeConfig;
  return stdin;
}

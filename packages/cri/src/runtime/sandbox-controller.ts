import type { criApi } from "@berth/api";
import type { TypedValue } from "@berth/core";
import type { RuntimeHandlers } from "./runtime-handlers.js";

/** The RuntimeService methods that act on pods; the runtime service hands them to the SandboxController. */
export const SANDBOX_METHODS = [
  "runPodSandbox",
  "stopPodSandbox",
  "removePodSandbox",
  "podSandboxStatus",
  "listPodSandbox",
  "podSandboxStats",
  "listPodSandboxStats",
  "portForward",
  "listMetricDescriptors",
  "listPodSandboxMetrics",
] as const satisfies readonly (keyof RuntimeHandlers)[];

/**
 * Pods: sandboxes (pause container, network namespace through CNI, pod-level cgroup) from
 * RunPodSandbox to RemovePodSandbox, their status and stats, and port forwarding into their
 * network namespace. Implemented in src/sandbox/. Each method has its RPC's handler signature,
 * so CRI messages cross this line as they are; errors are core errdefs.
 */
export type SandboxController = Pick<RuntimeHandlers, (typeof SANDBOX_METHODS)[number]>;

/**
 * What the container side needs to know about a pod, looked up by full ID or unique prefix.
 * The sandbox side owns this state; containers only read it.
 */
export interface SandboxLookup {
  /** NotFound when no such sandbox exists. */
  sandbox(idOrPrefix: string): SandboxView;
  /**
   * The container part registers, once, what a pod's lifecycle does to its containers:
   * StopPodSandbox stops them before the pause task is killed, RemovePodSandbox removes them
   * before the pod's own records go. Without hooks a pod has no containers to act on.
   */
  setContainerHooks(hooks: PodContainerHooks): void;
}

/** What the sandbox side asks of the container side (see SandboxLookup.setContainerHooks). */
export interface PodContainerHooks {
  /** Stops every container of the pod; called by StopPodSandbox (and RemovePodSandbox through it). */
  stopAll(sandboxId: string, signal: AbortSignal): Promise<void>;
  /** Removes every container of the pod; called by RemovePodSandbox after stopAll. */
  removeAll(sandboxId: string, signal: AbortSignal): Promise<void>;
}

/** How a pod uses the host's namespaces, as NamespaceOption says ("pod" = its own, "node" = the host's). */
export interface SandboxNamespaces {
  readonly network: "pod" | "node";
  readonly pid: "pod" | "node";
  readonly ipc: "pod" | "node";
}

export interface SandboxView {
  readonly id: string;
  /** The pod's config as RunPodSandbox received it. */
  readonly config: criApi.PodSandboxConfig;
  readonly state: "ready" | "notready" | "unknown";
  /** The runtime handler (RuntimeClass) the pod runs under; "" = the default. */
  readonly runtimeHandler: string;
  /** The pause process's PID, whose namespaces containers join; 0 when it is not running. */
  readonly pid: number;
  /** The pod's network namespace path; "" when the pod uses the host's network. */
  readonly netnsPath: string;
  /** The directory holding the pod's hostname, hosts, resolv.conf and /dev/shm. */
  readonly rootDir: string;
  /** Files in rootDir containers bind-mount at /etc/hostname, /etc/hosts and /etc/resolv.conf. */
  readonly hostnamePath: string;
  readonly hostsPath: string;
  readonly resolvConfPath: string;
  /** What containers bind at /dev/shm: the pod's tmpfs, or the host's /dev/shm with host IPC. */
  readonly shmPath: string;
  /** The pod's namespace modes (containers join the pause process's namespaces where "pod"). */
  readonly namespaces: SandboxNamespaces;
  /**
   * The cgroup parent a container's cgroups path goes under (`<cgroupParent>/<containerId>`
   * for cgroupfs): LinuxPodSandboxConfig.cgroup_parent, or "/k8s.io" as containerd's default
   * spec uses when the kubelet gives none.
   */
  readonly cgroupParent: string;
  /** The runtime (shim) type and its options, which the pod's containers run under too. */
  readonly runtimeType: string;
  readonly runtimeOptions: TypedValue | undefined;
  /** The pod's IPs, IPv4 first; empty for host-network pods. */
  readonly ips: readonly string[];
}

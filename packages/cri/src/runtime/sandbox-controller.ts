import type { criApi } from "@berth/api";
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
}

import { criApi } from "@berth/api";
import type { SandboxNamespaces } from "../runtime/sandbox-controller.js";

/**
 * The pod's namespace modes from its security context. A pause container either has its own
 * namespace or the host's: only NODE shares the host's, as in containerd. CONTAINER and TARGET
 * (the kubelet's default pid mode without shareProcessNamespace) concern the pod's containers,
 * which read them from the config; the pause process still gets a namespace of its own.
 */
export function sandboxNamespaces(config: criApi.PodSandboxConfig): SandboxNamespaces {
  const options = config.linux?.securityContext?.namespaceOptions;
  return {
    network: podOrNode(options?.network),
    pid: podOrNode(options?.pid),
    ipc: podOrNode(options?.ipc),
  };
}

const podOrNode = (mode: criApi.NamespaceMode | undefined): "pod" | "node" => (mode === criApi.NamespaceMode.NODE ? "node" : "pod");

/** Back to the CRI's enum, for PodSandboxStatus. */
export function namespaceOptionOf(ns: SandboxNamespaces): { network: criApi.NamespaceMode; pid: criApi.NamespaceMode; ipc: criApi.NamespaceMode } {
  const mode = (m: "pod" | "node") => (m === "node" ? criApi.NamespaceMode.NODE : criApi.NamespaceMode.POD);
  return { network: mode(ns.network), pid: mode(ns.pid), ipc: mode(ns.ipc) };
}

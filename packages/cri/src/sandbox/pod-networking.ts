import { join } from "node:path";
import { criApi } from "@berth/api";
import { createCniNetworking, createNetns, kubernetesPodArgs, removeNetns, type CapabilityArgs, type CniArgs, type PortMapping } from "@berth/cni";
import type { CriConfig } from "../config/cri-config.js";
import type { NetworkReadiness } from "../runtime/network-readiness.js";

/** Pod networks through CNI: a pinned netns per pod, set up and torn down with the pod's identity. */
export interface PodNetworking {
  /** Status's NetworkReady: the CNI config loads and its plugins exist. Rereads the conf dir. */
  readonly readiness: NetworkReadiness;
  /** Creates the pod's netns and adds it to every network; on failure nothing stays. */
  attach(id: string, config: criApi.PodSandboxConfig, signal: AbortSignal): Promise<{ netnsPath: string; ips: string[] }>;
  /** Removes the pod from every network it was added to (releasing its IPs), then its netns. Idempotent. */
  detach(id: string, netnsPath: string, config: criApi.PodSandboxConfig): Promise<void>;
  /** The pod IPs CNI reported, read back from its result cache (after a restart). */
  cachedIps(id: string): Promise<string[]>;
}

/** `cacheDir` keeps CNI results per daemon (libcni's layout), so teardown works after a restart. */
export function createPodNetworking(cni: CriConfig["cni"], cacheDir: string): PodNetworking {
  const networking = createCniNetworking({
    confDir: cni.confDir,
    binDirs: [cni.binDir],
    maxConfNum: cni.maxConfNum,
    cacheDir,
    loopback: true,
  });

  const identity = (id: string, config: criApi.PodSandboxConfig): CniArgs =>
    kubernetesPodArgs({ namespace: config.metadata?.namespace ?? "", name: config.metadata?.name ?? "", infraContainerId: id, uid: config.metadata?.uid ?? "" });

  return {
    readiness: {
      async check() {
        const status = await networking.load();
        if (status.ready) return { ready: true, reason: "", message: "" };
        // containerd's reason and wording, which the kubelet and critest show as they are.
        return { ready: false, reason: "NetworkPluginNotReady", message: `Network plugin returns error: cni plugin not initialized: ${status.message}` };
      },
    },
    async attach(id, config, signal) {
      // Pick up config files written since the last look, as containerd's conf-dir watch does.
      await networking.load();
      const netns = await createNetns();
      try {
        const net = await networking.setup({ containerId: id, netnsPath: netns.path, args: identity(id, config), capabilities: capabilitiesOf(config), signal });
        return { netnsPath: netns.path, ips: [...net.podIps] };
      } catch (err) {
        await removeNetns(netns.path).catch(() => undefined);
        throw err;
      }
    },
    async detach(id, netnsPath, config) {
      try {
        await networking.teardown({ containerId: id, netnsPath, args: identity(id, config), capabilities: capabilitiesOf(config) });
      } finally {
        if (netnsPath !== "") await removeNetns(netnsPath);
      }
    },
    async cachedIps(id) {
      return [...((await networking.cached(id))?.podIps ?? [])];
    },
  };
}

/** Capability args containerd passes: port mappings (host port 0 dropped), DNS, pod annotations. */
function capabilitiesOf(config: criApi.PodSandboxConfig): CapabilityArgs {
  const portMappings: PortMapping[] = config.portMappings
    .filter((p) => p.hostPort > 0)
    .map((p) => ({ hostPort: p.hostPort, containerPort: p.containerPort, protocol: protocolName(p.protocol), hostIP: p.hostIp }));
  const dns = config.dnsConfig;
  return {
    portMappings,
    ...(dns !== undefined ? { dns: { servers: dns.servers, searches: dns.searches, options: dns.options } } : {}),
    "io.kubernetes.cri.pod-annotations": config.annotations,
  };
}

function protocolName(p: criApi.Protocol): PortMapping["protocol"] {
  switch (p) {
    case criApi.Protocol.UDP:
      return "udp";
    case criApi.Protocol.SCTP:
      return "sctp";
    default:
      return "tcp";
  }
}

/** Where this CRI caches CNI results: beside its other state, not in the host's /var/lib/cni. */
export const cniCacheDir = (criRootDir: string): string => join(criRootDir, "cni");

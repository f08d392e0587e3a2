import { addressOnly, type CniDns, type CniResult, type CniRoute } from "./cni-result.js";

/** One network attached to a container: which network, through which interface, and what ADD said. */
export interface NetworkAttachment {
  readonly network: string;
  readonly ifName: string;
  readonly result: CniResult;
}

export interface AttachedIp {
  /** The address alone, e.g. "10.88.0.5". */
  readonly ip: string;
  readonly prefixLength?: number;
  readonly gateway?: string;
}

export interface AttachedInterface {
  readonly mac?: string;
  /** The netns path when the interface is inside the sandbox. */
  readonly sandbox?: string;
  readonly ips: readonly AttachedIp[];
}

/** Everything the networks said about a container, merged; what the CRI reports for a pod. */
export interface PodNetwork {
  readonly attachments: readonly NetworkAttachment[];
  /** By interface name, host-side ones included (a bridge, a veth peer). */
  readonly interfaces: Readonly<Record<string, AttachedInterface>>;
  /** The addresses of the primary interface inside the sandbox, IPv4 first: the pod IPs. */
  readonly podIps: readonly string[];
  readonly routes: readonly CniRoute[];
  readonly dns: readonly CniDns[];
}

/** Merges attachments the way containerd reads them: IPs grouped under the interface they name. */
export function summarizePodNetwork(attachments: readonly NetworkAttachment[], primaryIfName: string): PodNetwork {
  const interfaces: Record<string, { mac?: string; sandbox?: string; ips: AttachedIp[] }> = {};
  const routes: CniRoute[] = [];
  const dns: CniDns[] = [];
  for (const { result } of attachments) {
    for (const iface of result.interfaces) {
      interfaces[iface.name] ??= {
        ...(iface.mac !== undefined ? { mac: iface.mac } : {}),
        ...(iface.sandbox !== undefined ? { sandbox: iface.sandbox } : {}),
        ips: [],
      };
    }
    for (const ipc of result.ips) {
      const owner = ipc.interface !== undefined ? result.interfaces[ipc.interface] : undefined;
      if (!owner) continue;
      interfaces[owner.name]?.ips.push(attachedIp(ipc.address, ipc.gateway));
    }
    routes.push(...result.routes);
    if (Object.keys(result.dns).length > 0) dns.push(result.dns);
  }
  const primary = interfaces[primaryIfName];
  const podIps = primary?.sandbox
    ? primary.ips.map((a) => a.ip).sort((a, b) => Number(a.includes(":")) - Number(b.includes(":")))
    : [];
  return { attachments, interfaces, podIps, routes, dns };
}

function attachedIp(cidr: string, gateway: string | undefined): AttachedIp {
  const slash = cidr.indexOf("/");
  const prefix = slash < 0 ? NaN : Number(cidr.slice(slash + 1));
  return {
    ip: addressOnly(cidr),
    ...(Number.isInteger(prefix) ? { prefixLength: prefix } : {}),
    ...(gateway !== undefined ? { gateway } : {}),
  };
}

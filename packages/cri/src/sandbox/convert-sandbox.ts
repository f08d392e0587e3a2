import { criApi } from "@berth/api";
import { toJson, type MessageInitShape } from "@bufbuild/protobuf";
import { namespaceOptionOf } from "./namespace-modes.js";
import type { PodSandbox } from "./pod-sandbox.js";

/** Nanoseconds since the epoch, as the CRI carries times. */
export const unixNanos = (d: Date): bigint => BigInt(d.getTime()) * 1_000_000n;

export function stateOf(pod: PodSandbox): criApi.PodSandboxState {
  return pod.status.state === "ready" ? criApi.PodSandboxState.SANDBOX_READY : criApi.PodSandboxState.SANDBOX_NOTREADY;
}

/** What ListPodSandbox and PodSandboxStatus both show of a pod. */
function podFields(pod: PodSandbox) {
  return {
    id: pod.id,
    metadata: pod.config.metadata,
    state: stateOf(pod),
    createdAt: unixNanos(pod.createdAt),
    labels: pod.config.labels,
    annotations: pod.config.annotations,
    runtimeHandler: pod.runtimeHandler,
  };
}

/** A pod as ListPodSandbox shows it. */
export function podSandboxToCri(pod: PodSandbox): MessageInitShape<typeof criApi.PodSandboxSchema> {
  return podFields(pod);
}

/** A pod as PodSandboxStatus shows it: IPs (the first as `ip`, the rest as additional) and namespace modes. */
export function podSandboxStatusToCri(pod: PodSandbox): MessageInitShape<typeof criApi.PodSandboxStatusSchema> {
  const [ip = "", ...more] = pod.ips;
  return {
    ...podFields(pod),
    network: { ip, additionalIps: more.map((a) => ({ ip: a })) },
    // The options as the kubelet gave them (CONTAINER and TARGET included), as containerd reports them.
    linux: { namespaces: { options: pod.config.linux?.securityContext?.namespaceOptions ?? { ...namespaceOptionOf(pod.namespaces), targetId: "" } } },
  };
}

/** The verbose info containerd gives (`info` key), for crictl inspectp. */
export function podSandboxInfo(pod: PodSandbox): Record<string, string> {
  const info = {
    pid: pod.status.pid,
    processStatus: pod.status.state === "ready" ? "running" : "stopped",
    netNamespaceClosed: pod.networkReleased,
    image: pod.image,
    snapshotKey: pod.id,
    snapshotter: pod.snapshotter,
    runtimeHandler: pod.runtimeHandler,
    runtimeType: pod.runtimeType,
    netnsPath: pod.netnsPath,
    rootDir: pod.rootDir,
    cgroupParent: pod.cgroupParent,
    config: toJson(criApi.PodSandboxConfigSchema, pod.config),
  };
  return { info: JSON.stringify(info) };
}

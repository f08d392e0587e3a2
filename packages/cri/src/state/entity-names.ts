import type { criApi } from "@berth/api";

/**
 * The names containerd's CRI reserves, so the kubelet's (name, namespace, uid, attempt) stays
 * unique: `<name>_<namespace>_<uid>_<attempt>` for a sandbox, and
 * `<container>_<pod>_<namespace>_<uid>_<attempt>` for a container.
 */
export function sandboxName(m: criApi.PodSandboxMetadata): string {
  return [m.name, m.namespace, m.uid, String(m.attempt)].join("_");
}

export function containerName(c: criApi.ContainerMetadata, pod: criApi.PodSandboxMetadata): string {
  return [c.name, pod.name, pod.namespace, pod.uid, String(c.attempt)].join("_");
}

import type { criApi } from "@berth/api";

/** The annotation keys containerd's CRI writes into specs, which runtimes and hooks read. */
export const CRI_ANNOTATIONS = {
  containerType: "io.kubernetes.cri.container-type",
  sandboxId: "io.kubernetes.cri.sandbox-id",
  sandboxName: "io.kubernetes.cri.sandbox-name",
  sandboxNamespace: "io.kubernetes.cri.sandbox-namespace",
  sandboxUid: "io.kubernetes.cri.sandbox-uid",
  containerName: "io.kubernetes.cri.container-name",
  imageName: "io.kubernetes.cri.image-name",
} as const;

/** A container's: its type, its pod (ID, name, namespace, uid), its name and its image. */
export function criContainerAnnotations(c: { id: string; name: string; imageName: string; pod: criApi.PodSandboxConfig }): Record<string, string> {
  return {
    [CRI_ANNOTATIONS.containerType]: "container",
    [CRI_ANNOTATIONS.sandboxId]: c.id,
    [CRI_ANNOTATIONS.sandboxName]: c.pod.metadata?.name ?? "",
    [CRI_ANNOTATIONS.sandboxNamespace]: c.pod.metadata?.namespace ?? "",
    [CRI_ANNOTATIONS.sandboxUid]: c.pod.metadata?.uid ?? "",
    [CRI_ANNOTATIONS.containerName]: c.name,
    [CRI_ANNOTATIONS.imageName]: c.imageName,
  };
}

/**
 * Labels the CRI writes on containerd records. Kept identical to containerd's CRI, so records
 * one of them wrote are recognised by the other (and by tools such as `ctr -n k8s.io`).
 */
export const CRI_LABEL_PREFIX = "io.cri-containerd";

/** On every image record the CRI pulled or adopted. */
export const IMAGE_LABEL = `${CRI_LABEL_PREFIX}.image`;
export const IMAGE_LABEL_VALUE = "managed";

/** On the sandbox image (and any image configured as pinned): never garbage collected by the kubelet. */
export const PINNED_LABEL = `${CRI_LABEL_PREFIX}.pinned`;
export const PINNED_LABEL_VALUE = "pinned";

/** On containers: "sandbox" for a pod's infrastructure container, "container" for the rest. */
export const CONTAINER_KIND_LABEL = `${CRI_LABEL_PREFIX}.kind`;
export const CONTAINER_KIND_SANDBOX = "sandbox";
export const CONTAINER_KIND_CONTAINER = "container";

/** Container extensions holding the CRI's own metadata, for recovery after a restart. */
export const SANDBOX_METADATA_EXTENSION = `${CRI_LABEL_PREFIX}.sandbox.metadata`;
export const CONTAINER_METADATA_EXTENSION = `${CRI_LABEL_PREFIX}.container.metadata`;

/** The kubelet's own labels the CRI copies onto containers. */
export const KUBERNETES_POD_NAME_LABEL = "io.kubernetes.pod.name";
export const KUBERNETES_POD_NAMESPACE_LABEL = "io.kubernetes.pod.namespace";
export const KUBERNETES_POD_UID_LABEL = "io.kubernetes.pod.uid";
export const KUBERNETES_CONTAINER_NAME_LABEL = "io.kubernetes.container.name";

/** The container name the kubelet gives a pod's infrastructure container. */
export const POD_INFRA_CONTAINER_NAME = "POD";

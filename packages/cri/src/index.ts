/**
 * @berth/cri: the Kubernetes Container Runtime Interface on berthd's socket. The plugin
 * (`io.containerd.grpc.v1.cri`) serves runtime.v1.RuntimeService and ImageService in the k8s.io
 * namespace; the runtime service hands pod RPCs to a SandboxController and container RPCs to a
 * ContainerController, both built from one CriBase. See README.md for the layout.
 */

// The plugin and its assembly.
export { criGrpcPlugin } from "./plugin.js";
export { createCriService, type CriService, type CriServiceDeps } from "./cri-service.js";
export type { CriBase } from "./cri-base.js";

// Configuration.
export {
  criConfigSchema,
  containerdSectionSchema,
  cniSectionSchema,
  registrySectionSchema,
  runtimeHandlerSchema,
  validateCriConfig,
  runtimeHandlerFor,
  type CriConfig,
  type RuntimeHandlerConfig,
} from "./config/cri-config.js";

// The runtime side's seams.
export { SANDBOX_METHODS, type SandboxController, type SandboxLookup, type SandboxView } from "./runtime/sandbox-controller.js";
export { CONTAINER_METHODS, type ContainerController } from "./runtime/container-controller.js";
export type { SandboxPart, ContainerPart } from "./runtime/parts.js";
export type { RuntimeHandlers } from "./runtime/runtime-handlers.js";
export { cniConfigReadiness, type NetworkReadiness, type NetworkCondition } from "./runtime/network-readiness.js";
export { RUNTIME_NAME, RUNTIME_API_VERSION, KUBE_API_VERSION } from "./runtime/runtime-service.js";

// Images.
export type { CriImages } from "./image/cri-images.js";
export type { CriImage } from "./image/cri-image.js";
export { normalizeImageRef, repoNames } from "./image/image-reference.js";
export { registryCredentials } from "./image/registry-credentials.js";
export { imageUser } from "./image/image-user.js";

// Shared state.
export { createCriState, type CriState, type RuntimeSettings } from "./state/cri-state.js";
export { createNameRegistry, type NameRegistry } from "./state/name-registry.js";
export { createIdIndex, type IdIndex } from "./state/id-index.js";
export { generateId } from "./state/generate-id.js";
export { sandboxName, containerName } from "./state/entity-names.js";
export { K8S_NAMESPACE, criOpContext } from "./state/k8s-namespace.js";
export * from "./state/cri-labels.js";

import type { RuntimeHandlers } from "./runtime-handlers.js";

/** The RuntimeService methods that act on containers; the runtime service hands them to the ContainerController. */
export const CONTAINER_METHODS = [
  "createContainer",
  "startContainer",
  "stopContainer",
  "removeContainer",
  "listContainers",
  "containerStatus",
  "updateContainerResources",
  "reopenContainerLog",
  "execSync",
  "exec",
  "attach",
  "containerStats",
  "listContainerStats",
  "checkpointContainer",
  "getContainerEvents",
] as const satisfies readonly (keyof RuntimeHandlers)[];

/**
 * Containers inside pods: create/start/stop/remove, status and listing, resources, logs in the
 * CRI format, exec (sync and streamed), attach, stats and the container event stream.
 * Implemented in src/container/. Each method has its RPC's handler signature.
 */
export type ContainerController = Pick<RuntimeHandlers, (typeof CONTAINER_METHODS)[number]>;

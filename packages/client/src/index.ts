/** @berth/client: talk to berthd (or containerd) over its socket. */
export { createClient, type BerthClient, type ClientOptions, type PluginInfo, type TaskSummary } from "./client.js";
export { createServiceClient, type ServiceClient, type ServiceFactory, type ClientMethod, type CallOptions } from "./service-client.js";
export type { PullOptions, RegistryOptions, TransferProgress } from "./pull.js";
export type { PushOptions } from "./push.js";
export type { ImportOptions, ExportOptions } from "./image-archive.js";
export type { ImageCheck, CheckOptions } from "./image-check.js";

// Containers and tasks, as containerd's client has them.
export { newContainer, DEFAULT_SNAPSHOTTER, STOP_SIGNAL_LABEL, type NewContainerOptions } from "./new-container.js";
export { daemonDefaultRuntime, DEFAULT_RUNTIME } from "./daemon-runtime.js";
export { containerHandle, toContainerRecord, type ContainerHandle, type ContainerRecord, type NewTaskOptions, type ExecSpecOptions, type AnyMessage } from "./container.js";
export {
  processHandle,
  taskHandle,
  statusName,
  type ProcessHandle,
  type TaskHandle,
  type ExitStatus,
  type ProcessState,
  type ProcessStatusName,
  type ProcessInfo,
  type TaskMetrics,
} from "./task.js";
export { resolveImage, type ResolvedImage, type ResolveImageOptions } from "./image-resolve.js";
export { createFifoIo, NULL_IO, type ProcessIo, type ProcessStreams } from "./process-io.js";
export { createFifoSet, removeFifos, DEFAULT_FIFO_DIR, type FifoSet, type StdioPaths } from "./fifo-set.js";
export { decodeCgroupMetrics, CGROUPS_V1_METRICS, CGROUPS_V2_METRICS, type CgroupMetrics } from "./cgroup-metrics.js";
export { packSpec, unpackSpec, packProcessSpec, SPEC_TYPE_URL, PROCESS_SPEC_TYPE_URL } from "./spec-any.js";
export { readonlyMounts } from "./readonly-mounts.js";
export { checkpointTask, CHECKPOINT_LABEL, type CheckpointOptions } from "./checkpoint.js";

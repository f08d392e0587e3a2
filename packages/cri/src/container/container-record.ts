import type { criApi } from "@berth/api";

/** A container's lifecycle state, as the CRI reports it. */
export type ContainerLifecycle = "created" | "running" | "exited" | "unknown";

/**
 * What changes over a container's life. Times are nanoseconds since the epoch (the CRI's unit);
 * 0n means "not yet". Kept as plain data so it can be written to disk and read back after a
 * daemon restart.
 */
export interface ContainerStatusData {
  state: ContainerLifecycle;
  pid: number;
  createdAt: bigint;
  startedAt: bigint;
  finishedAt: bigint;
  exitCode: number;
  reason: string;
  message: string;
  /** Set once the task is being removed, so a second Remove waits rather than races. */
  removing: boolean;
  /** Set from a /tasks/oom event: the exit that follows is reported as OOMKilled. */
  oomKilled: boolean;
}

/** What never changes after CreateContainer: the request, the resolved image, the paths. */
export interface ContainerRecord {
  readonly id: string;
  readonly sandboxId: string;
  /** The reserved name, containerName(metadata, pod metadata). */
  readonly name: string;
  readonly config: criApi.ContainerConfig;
  /** The image as the request named it. */
  readonly imageName: string;
  /** The image ID (config digest). */
  readonly imageId: string;
  /** pod log_directory + container log_path; "" when the kubelet asked for no log. */
  readonly logPath: string;
  /** The runtime handler the pod runs under (the shim's runtime name and options come from it). */
  readonly runtimeHandler: string;
  /** The image's StopSignal, as a signal number. */
  readonly stopSignal: number;
  /** The snapshotter holding the container's rootfs. */
  readonly snapshotter: string;
  readonly status: ContainerStatusData;
}

export const CONTAINER_STATE_TO_CRI: Record<ContainerLifecycle, criApi.ContainerState> = {
  created: 0,
  running: 1,
  exited: 2,
  unknown: 3,
};

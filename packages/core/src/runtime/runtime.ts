import type { OpContext } from "../content/index.js";
import type { TypedValue } from "../metadata/index.js";
import type { Mount } from "../snapshots/index.js";
import type { Exit, ProcessIO, RuntimeTask } from "./task.js";

/** What a task is created from. */
export interface CreateTaskOptions {
  /** The OCI runtime spec, as the container record carries it; written to the bundle's config.json. */
  readonly spec: TypedValue | undefined;
  /** Mounts that make up the root filesystem (a snapshot's mounts), mounted on the bundle's rootfs. */
  readonly rootfs: readonly Mount[];
  readonly io: ProcessIO;
  /** A directory holding a checkpoint image to restore from; "" or absent for a fresh start. */
  readonly checkpoint?: string | undefined;
  /** A runtime name (`io.containerd.runc.v2`) or an absolute path to a shim binary. */
  readonly runtime: string;
  /** The container's runtime options (runc: containerd.runc.v1.Options). */
  readonly runtimeOptions?: TypedValue | undefined;
  /** Options for this task only; they win over `runtimeOptions`. */
  readonly taskOptions?: TypedValue | undefined;
  /** The sandbox the container belongs to, if any. */
  readonly sandboxId?: string | undefined;
}

/**
 * Runs tasks for one platform: containerd's PlatformRuntime. A container has at most one task,
 * keyed by the container's ID within a namespace. Errors are core errdefs: NotFound for an
 * unknown task, AlreadyExists for a container that has one, InvalidArgument for bad IDs or
 * runtime names.
 */
export interface PlatformRuntime {
  /** The runtime name used when neither the container nor the request names one. */
  readonly defaultRuntime: string;
  create(ctx: OpContext, id: string, opts: CreateTaskOptions): Promise<RuntimeTask>;
  get(ctx: OpContext, id: string): Promise<RuntimeTask>;
  /** The tasks of `ctx.namespace`, or of every namespace when `all`. */
  tasks(ctx: OpContext, all: boolean): Promise<RuntimeTask[]>;
  /** Deletes the task and everything the runtime kept for it; how its init process ended. */
  delete(ctx: OpContext, id: string): Promise<Exit>;
}

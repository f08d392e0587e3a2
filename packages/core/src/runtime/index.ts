import { pluginType } from "../plugin/plugin-type.js";
import { PluginTypes } from "../plugin/types.js";
import type { PlatformRuntime } from "./runtime.js";

export type { CreateTaskOptions, PlatformRuntime } from "./runtime.js";
export type {
  ConsoleSize,
  ExecOptions,
  ExecProcess,
  Exit,
  ProcessInfo,
  ProcessIO,
  ProcessState,
  ProcessStatus,
  RuntimeProcess,
  RuntimeTask,
} from "./task.js";

/** io.containerd.runtime.v2: runtimes that run tasks (the shim manager registers `task`). */
export const RuntimePlugin = pluginType<PlatformRuntime>(PluginTypes.runtimeV2);

/** containerd's task event topics, in the order a task's life publishes them. */
export const TaskTopics = {
  create: "/tasks/create",
  start: "/tasks/start",
  execAdded: "/tasks/exec-added",
  execStarted: "/tasks/exec-started",
  paused: "/tasks/paused",
  resumed: "/tasks/resumed",
  checkpointed: "/tasks/checkpointed",
  oom: "/tasks/oom",
  exit: "/tasks/exit",
  delete: "/tasks/delete",
} as const;

import type { TypedValue } from "../metadata/index.js";

/**
 * The lifecycle states a task or exec process reports, as containerd's runtime names them.
 * "pausing" is a task on its way to paused; "unknown" is what a runtime said that no state fits.
 */
export type ProcessStatus = "created" | "running" | "stopped" | "paused" | "pausing" | "unknown";

/** Where a process's stdio goes: FIFO paths or log URIs (binary://, file://) the client chose. */
export interface ProcessIO {
  readonly stdin: string;
  readonly stdout: string;
  readonly stderr: string;
  readonly terminal: boolean;
}

/** A process's state as its runtime reports it. */
export interface ProcessState {
  /** The container ID for a task's init process, the exec ID for an exec. */
  readonly id: string;
  readonly pid: number;
  readonly status: ProcessStatus;
  readonly io: ProcessIO;
  /** Only meaningful once stopped. */
  readonly exitStatus: number;
  /** Only meaningful once stopped. */
  readonly exitedAt: Date | undefined;
}

/** How a process ended. */
export interface Exit {
  readonly pid: number;
  readonly status: number;
  readonly exitedAt: Date;
}

/** A process running inside a task; `info` is runtime specific (runc: containerd.runc.v1.ProcessDetails). */
export interface ProcessInfo {
  readonly pid: number;
  readonly info?: TypedValue | undefined;
}

export interface ConsoleSize {
  readonly width: number;
  readonly height: number;
}

/**
 * A process of a task: its init process or an exec. Every call may take a signal; aborting
 * stops waiting for the runtime (the process itself is not touched).
 */
export interface RuntimeProcess {
  readonly id: string;
  /** NotFound once the runtime no longer knows the process. */
  state(signal?: AbortSignal): Promise<ProcessState>;
  /** Sends `signal`; `all` signals every process of the task (only for the init process). */
  kill(signal: number, all: boolean, abort?: AbortSignal): Promise<void>;
  resizePty(size: ConsoleSize, signal?: AbortSignal): Promise<void>;
  /** Closes the process's stdin. */
  closeIO(signal?: AbortSignal): Promise<void>;
  /** Starts a created process. */
  start(signal?: AbortSignal): Promise<void>;
  /** Resolves when the process has exited (at once if it already has). */
  wait(signal?: AbortSignal): Promise<Exit>;
}

/** An exec process: it deletes itself, unlike a task's init process, which the runtime deletes. */
export interface ExecProcess extends RuntimeProcess {
  delete(signal?: AbortSignal): Promise<Exit>;
}

export interface ExecOptions {
  /** The OCI process spec, as the client sent it (an Any of the runtime spec's Process). */
  readonly spec: TypedValue | undefined;
  readonly io: ProcessIO;
}

/** A container's task as a runtime runs it: its init process plus pause, exec, stats and the rest. */
export interface RuntimeTask extends RuntimeProcess {
  readonly namespace: string;
  /** The runtime name (or shim path) the task was created with. */
  readonly runtime: string;
  /** The pid of the init process. */
  pid(signal?: AbortSignal): Promise<number>;
  pause(signal?: AbortSignal): Promise<void>;
  resume(signal?: AbortSignal): Promise<void>;
  /** Adds process `id` (created, not started). InvalidArgument for a bad ID, AlreadyExists if taken. */
  exec(id: string, opts: ExecOptions, signal?: AbortSignal): Promise<ExecProcess>;
  pids(signal?: AbortSignal): Promise<ProcessInfo[]>;
  /** Writes a checkpoint image of the task to directory `path`. */
  checkpoint(path: string, options: TypedValue | undefined, signal?: AbortSignal): Promise<void>;
  /** Applies new resources (an Any of the runtime spec's LinuxResources) and annotations. */
  update(resources: TypedValue | undefined, annotations: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<void>;
  /** The exec process `execId`; NotFound if the task has none by that ID. */
  process(execId: string, signal?: AbortSignal): Promise<ExecProcess>;
  /** Runtime-specific metrics (runc: io.containerd.cgroups.v1.Metrics or v2.Metrics). */
  stats(signal?: AbortSignal): Promise<TypedValue | undefined>;
}

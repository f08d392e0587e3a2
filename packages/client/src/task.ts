import { runcOptions, taskTypes, tasksApi, unpackAny } from "@berth/api";
import { failedPrecondition, isFailedPrecondition, isNotFound } from "@berth/core";
import type { Process as ProcessSpec } from "@berth/oci";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { decodeCgroupMetrics, type CgroupMetrics } from "./cgroup-metrics.js";
import { removeFifos } from "./fifo-set.js";
import { createFifoIo, NULL_IO, type ProcessIo, type ProcessStreams } from "./process-io.js";
import { checkpointTask, type CheckpointOptions } from "./checkpoint.js";
import type { CallOptions, ServiceClient, ServiceFactory } from "./service-client.js";
import { packProcessSpec } from "./spec-any.js";

export type ProcessStatusName = "unknown" | "created" | "running" | "stopped" | "paused" | "pausing";

export interface ExitStatus {
  readonly code: number;
  readonly exitedAt: Date | undefined;
}

export interface ProcessState {
  readonly status: ProcessStatusName;
  readonly pid: number;
  readonly exitStatus: number;
  readonly exitedAt: Date | undefined;
  readonly stdin: string;
  readonly stdout: string;
  readonly stderr: string;
  readonly terminal: boolean;
}

/** The init process of a task, or one it executes: containerd's client Process. */
export interface ProcessHandle {
  readonly containerId: string;
  /** "" for the task's init process. */
  readonly execId: string;
  readonly pid: number;
  /** The client-side IO when this client created the process; undefined for a loaded one. */
  readonly io: ProcessIo | undefined;
  /** Starts the process; returns its pid. */
  start(opts?: CallOptions): Promise<number>;
  /** Waits for the process to exit (at once when it already has). */
  wait(opts?: CallOptions): Promise<ExitStatus>;
  kill(signal: number, opts?: { all?: boolean } & CallOptions): Promise<void>;
  resize(width: number, height: number, opts?: CallOptions): Promise<void>;
  /** Closes the process's stdin (after the client's copy has ended). */
  closeStdin(opts?: CallOptions): Promise<void>;
  state(opts?: CallOptions): Promise<ProcessState>;
  /**
   * Deletes the stopped process and returns how it exited; `force` kills a live one first
   * (SIGKILL to all its processes) and waits for it. The process's FIFOs are removed.
   */
  delete(opts?: { force?: boolean } & CallOptions): Promise<ExitStatus>;
}

export interface ProcessInfo {
  readonly pid: number;
  /** The exec ID the runc shim reports for a process it started with `exec`. */
  readonly execId: string | undefined;
}

export interface TaskMetrics {
  readonly id: string;
  readonly timestamp: Date | undefined;
  readonly typeUrl: string;
  readonly data: CgroupMetrics | undefined;
}

/** A container's running incarnation: containerd's client Task. */
export interface TaskHandle extends ProcessHandle {
  exec(execId: string, spec: ProcessSpec, streams: ProcessStreams | "null", opts?: CallOptions): Promise<ProcessHandle>;
  /** An exec'd process by ID, without IO. */
  loadProcess(execId: string, opts?: CallOptions): Promise<ProcessHandle>;
  pause(opts?: CallOptions): Promise<void>;
  resume(opts?: CallOptions): Promise<void>;
  pids(opts?: CallOptions): Promise<ProcessInfo[]>;
  metrics(opts?: CallOptions): Promise<TaskMetrics>;
  /** Checkpoints the task into an image (criu through the shim); returns the image's name. */
  checkpoint(opts?: CheckpointOptions): Promise<string>;
}

type Tasks = ServiceClient<typeof tasksApi.Tasks>;

const STATUS_NAMES: Record<number, ProcessStatusName> = {
  [taskTypes.Status.UNKNOWN]: "unknown",
  [taskTypes.Status.CREATED]: "created",
  [taskTypes.Status.RUNNING]: "running",
  [taskTypes.Status.STOPPED]: "stopped",
  [taskTypes.Status.PAUSED]: "paused",
  [taskTypes.Status.PAUSING]: "pausing",
};

export const statusName = (s: taskTypes.Status): ProcessStatusName => STATUS_NAMES[s] ?? "unknown";

const dateOf = (t: Timestamp | undefined): Date | undefined => (t ? timestampDate(t) : undefined);

/** A handle on process `execId` ("" for init) of task `containerId`. */
export function processHandle(tasks: Tasks, containerId: string, execId: string, pid: number, io: ProcessIo | undefined): ProcessHandle {
  const ids = { containerId, execId };
  const state = async (opts?: CallOptions): Promise<ProcessState> => {
    const { process: p } = await tasks.get(ids, opts);
    if (!p) throw failedPrecondition(`task ${containerId}${execId ? ` process ${execId}` : ""} returned no state`);
    return {
      status: statusName(p.status),
      pid: p.pid,
      exitStatus: p.exitStatus,
      exitedAt: dateOf(p.exitedAt),
      stdin: p.stdin,
      stdout: p.stdout,
      stderr: p.stderr,
      terminal: p.terminal,
    };
  };
  const wait = async (opts?: CallOptions): Promise<ExitStatus> => {
    // Waiting has no deadline: a container may run for days.
    const res = await tasks.wait(ids, { timeoutMs: 0, ...opts });
    return { code: res.exitStatus, exitedAt: dateOf(res.exitedAt) };
  };
  const kill = async (signal: number, opts: { all?: boolean } & CallOptions = {}) => {
    await tasks.kill({ ...ids, signal, all: opts.all ?? false }, opts);
  };
  return {
    containerId,
    execId,
    pid,
    io,
    async start(opts) {
      try {
        const res = await tasks.start(ids, opts);
        return res.pid;
      } finally {
        io?.started();
      }
    },
    wait,
    kill,
    async resize(width, height, opts) {
      await tasks.resizePty({ ...ids, width, height }, opts);
    },
    async closeStdin(opts) {
      await tasks.closeIO({ ...ids, stdin: true }, opts);
    },
    state,
    async delete(opts = {}) {
      const current = await state(opts);
      if (current.status !== "stopped" && current.status !== "unknown" && !(current.status === "created" && current.pid === 0)) {
        if (!opts.force) throw failedPrecondition(`task must be stopped before deletion: ${current.status}`);
        await killAndWait(wait, kill, opts);
      }
      // Output still in flight is the container's last words: let the shim finish writing them.
      io?.started();
      await io?.wait();
      const res = execId ? await tasks.deleteProcess(ids, opts) : await tasks.delete({ containerId }, opts);
      if (io) await io.close();
      else await removeFifos(current);
      return { code: res.exitStatus, exitedAt: dateOf(res.exitedAt) };
    },
  };
}

/** containerd's WithProcessKill: SIGKILL everything, then wait; a process already gone is fine. */
async function killAndWait(wait: ProcessHandle["wait"], kill: ProcessHandle["kill"], opts: CallOptions): Promise<void> {
  const exited = wait(opts);
  exited.catch(() => {});
  try {
    await kill(9, { ...opts, all: true });
  } catch (err) {
    if (!isNotFound(err) && !isFailedPrecondition(err)) throw err;
  }
  await exited;
}

/** A handle on the task of container `containerId`. */
export function taskHandle(service: ServiceFactory, containerId: string, pid: number, io: ProcessIo | undefined): TaskHandle {
  const tasks = service(tasksApi.Tasks);
  const init = processHandle(tasks, containerId, "", pid, io);
  return {
    ...init,
    async exec(execId, spec, streams, opts) {
      const terminal = spec.terminal ?? false;
      const pio = streams === "null" ? NULL_IO : await createFifoIo(execId, { ...streams, terminal });
      try {
        await tasks.exec(
          {
            containerId,
            execId,
            stdin: pio.config.stdin,
            stdout: pio.config.stdout,
            stderr: pio.config.stderr,
            terminal: pio.config.terminal,
            spec: packProcessSpec(spec),
          },
          opts,
        );
      } catch (err) {
        await pio.close();
        throw err;
      }
      const proc = processHandle(tasks, containerId, execId, 0, pio);
      pio.attached(() => void proc.closeStdin().catch(() => {}));
      return proc;
    },
    async loadProcess(execId, opts) {
      const { process: p } = await tasks.get({ containerId, execId }, opts);
      return processHandle(tasks, containerId, execId, p?.pid ?? 0, undefined);
    },
    async pause(opts) {
      await tasks.pause({ containerId }, opts);
    },
    async resume(opts) {
      await tasks.resume({ containerId }, opts);
    },
    async pids(opts) {
      const res = await tasks.listPids({ containerId }, opts);
      return res.processes.map((p) => ({ pid: p.pid, execId: p.info ? unpackAny(runcOptions.ProcessDetailsSchema, p.info)?.execId : undefined }));
    },
    async metrics(opts) {
      const res = await tasks.metrics({ filters: [`id==${containerId}`] }, opts);
      const m = res.metrics.find((x) => x.id === containerId) ?? res.metrics[0];
      if (!m) throw failedPrecondition(`no metrics for task ${containerId}`);
      const data = m.data ? { typeUrl: m.data.typeUrl, value: m.data.value } : undefined;
      return { id: m.id, timestamp: dateOf(m.timestamp), typeUrl: data?.typeUrl ?? "", data: data && decodeCgroupMetrics(data) };
    },
    checkpoint: (opts) => checkpointTask(service, containerId, opts),
  };
}

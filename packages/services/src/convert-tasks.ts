// containerd.services.tasks.v1 messages <-> core's runtime vocabulary.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { taskTypes, type types } from "@berth/api";
import type { Exit, Mount, ProcessIO, ProcessInfo, ProcessState, ProcessStatus, TypedValue } from "@berth/core";
import type { Any } from "@bufbuild/protobuf/wkt";
import { anyFromWire, anyToWire } from "./convert-containers.js";

export type ProcessOut = MessageInitShape<typeof taskTypes.ProcessSchema>;
export type ProcessInfoOut = MessageInitShape<typeof taskTypes.ProcessInfoSchema>;

const STATUS: Readonly<Record<ProcessStatus, taskTypes.Status>> = {
  created: taskTypes.Status.CREATED,
  running: taskTypes.Status.RUNNING,
  stopped: taskTypes.Status.STOPPED,
  paused: taskTypes.Status.PAUSED,
  pausing: taskTypes.Status.PAUSING,
  unknown: taskTypes.Status.UNKNOWN,
};

export function statusToWire(status: ProcessStatus): taskTypes.Status {
  return STATUS[status];
}

/** A process as Tasks.Get and List return it: `id` is the task's ID for the init process, else the exec's. */
export function processToWire(state: ProcessState): ProcessOut {
  return {
    id: state.id,
    pid: state.pid,
    status: statusToWire(state.status),
    stdin: state.io.stdin,
    stdout: state.io.stdout,
    stderr: state.io.stderr,
    terminal: state.io.terminal,
    exitStatus: state.exitStatus,
    ...(state.exitedAt ? { exitedAt: timestampFromDate(state.exitedAt) } : {}),
  };
}

/** A process whose state could not be read: listed with status UNKNOWN, as containerd does. */
export function unknownProcess(id: string): ProcessOut {
  return { id, status: taskTypes.Status.UNKNOWN };
}

export function exitToWire(exit: Exit): { pid: number; exitStatus: number; exitedAt: ReturnType<typeof timestampFromDate> } {
  return { pid: exit.pid, exitStatus: exit.status, exitedAt: timestampFromDate(exit.exitedAt) };
}

export function processInfoToWire(info: ProcessInfo): ProcessInfoOut {
  return { pid: info.pid, ...(info.info ? { info: anyToWire(info.info) } : {}) };
}

/**
 * A task's rootfs as the request carried it, empty targets included (unlike @berth/wire's
 * mountsFromWire): it goes on to the shim unchanged.
 */
export function mountsFromWire(mounts: readonly types.Mount[]): Mount[] {
  return mounts.map((m) => ({ type: m.type, source: m.source, target: m.target, options: [...m.options] }));
}

export function ioFromWire(r: { stdin: string; stdout: string; stderr: string; terminal: boolean }): ProcessIO {
  return { stdin: r.stdin, stdout: r.stdout, stderr: r.stderr, terminal: r.terminal };
}

/** An optional Any from a request. */
export function optionalAny(value: Any | undefined): TypedValue | undefined {
  return value ? anyFromWire(value) : undefined;
}

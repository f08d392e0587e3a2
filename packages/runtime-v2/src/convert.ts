// containerd.task.v2 messages <-> core's runtime vocabulary. Wire types stop here.
import type { Timestamp, Any } from "@bufbuild/protobuf/wkt";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { taskTypes, type shimTaskApi } from "@berth/api";
import type { Exit, Mount, ProcessState, ProcessStatus, TypedValue } from "@berth/core";

const STATUS: Readonly<Record<number, ProcessStatus>> = {
  [taskTypes.Status.CREATED]: "created",
  [taskTypes.Status.RUNNING]: "running",
  [taskTypes.Status.STOPPED]: "stopped",
  [taskTypes.Status.PAUSED]: "paused",
  [taskTypes.Status.PAUSING]: "pausing",
};

export function statusFromWire(status: taskTypes.Status): ProcessStatus {
  return STATUS[status] ?? "unknown";
}

export function dateFromWire(ts: Timestamp | undefined): Date | undefined {
  return ts ? timestampDate(ts) : undefined;
}

export function stateFromWire(id: string, r: shimTaskApi.StateResponse): ProcessState {
  return {
    id,
    pid: r.pid,
    status: statusFromWire(r.status),
    io: { stdin: r.stdin, stdout: r.stdout, stderr: r.stderr, terminal: r.terminal },
    exitStatus: r.exitStatus,
    exitedAt: dateFromWire(r.exitedAt),
  };
}

export function exitFromWire(pid: number, r: { exitStatus: number; exitedAt?: Timestamp | undefined }): Exit {
  // A shim always stamps an exit; epoch 0 stands for a missing stamp as Go's zero time does.
  return { pid, status: r.exitStatus, exitedAt: dateFromWire(r.exitedAt) ?? new Date(0) };
}

export function mountToWire(m: Mount): { type: string; source: string; target: string; options: string[] } {
  return { type: m.type, source: m.source, target: m.target ?? "", options: [...m.options] };
}

export function anyToWire(value: TypedValue | undefined): { typeUrl: string; value: Uint8Array } | undefined {
  return value ? { typeUrl: value.typeUrl, value: value.value } : undefined;
}

export function anyFromWire(value: Any | undefined): TypedValue | undefined {
  return value ? { typeUrl: value.typeUrl, value: value.value } : undefined;
}

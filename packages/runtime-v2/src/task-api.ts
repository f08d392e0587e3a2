import type { DescMethod } from "@bufbuild/protobuf";
import { shimTaskApi } from "@berth/api";

/** The shim task service, as Berth's ttrpc client takes it. */
export type TaskService = typeof shimTaskApi.Task;

/**
 * containerd.task.v3.Task is containerd 2's name for the same service: every message and
 * method of v2, under another service name. Shims that announce version 3 serve only that
 * name, so the v2 descriptor is reused with its name (the one ttrpc puts on the wire) changed.
 */
function renamed(service: TaskService, typeName: string): TaskService {
  const methods: DescMethod[] = [];
  const copy = { ...service, typeName, methods, method: {} as Record<string, DescMethod> } as TaskService;
  for (const method of service.methods) {
    const m = { ...method, parent: copy } as DescMethod;
    methods.push(m);
    (copy.method as Record<string, DescMethod>)[m.localName] = m;
  }
  return copy;
}

const V3 = renamed(shimTaskApi.Task, "containerd.task.v3.Task");

/** The task service a shim of API `version` serves. */
export function taskServiceFor(version: number): TaskService {
  return version >= 3 ? V3 : shimTaskApi.Task;
}

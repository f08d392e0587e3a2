import { eventPayloads, unpackAny } from "@berth/api";
import type { CriBase } from "../cri-base.js";
import { K8S_NAMESPACE } from "../state/k8s-namespace.js";
import type { SandboxStore } from "./sandbox-store.js";

const EXIT_FILTER = `topic=="/tasks/exit",namespace=="${K8S_NAMESPACE}"`;

/**
 * Marks a pod NOTREADY when its pause process exits, from the /tasks/exit events the shims (or
 * the runtime, for a shim that died) publish. Runs until `signal` aborts.
 */
export async function watchSandboxExits(base: CriBase, store: SandboxStore, signal: AbortSignal): Promise<void> {
  try {
    for await (const envelope of base.events.subscribe([EXIT_FILTER], signal)) {
      const exit = unpackAny(eventPayloads.TaskExitSchema, envelope.event);
      // Only the init process (id = container id) ends a pod; execs in it do not.
      if (exit === undefined || exit.id !== exit.containerId) continue;
      const pod = store.find(exit.containerId);
      if (pod === undefined || pod.status.state === "notready") continue;
      pod.status = { state: "notready", pid: 0 };
      base.log.info("cri: pod sandbox exited", { sandbox: pod.id, status: exit.exitStatus });
    }
  } catch (err) {
    if (!signal.aborted) base.log.error("cri: sandbox exit watch ended", { error: String(err) });
  }
}

import { isNotFound, type OpContext } from "@berth/core";
import { criOpContext } from "../state/k8s-namespace.js";
import { killAndDeletePauseTask } from "./pause-task.js";
import { podFiles, type PodSandbox } from "./pod-sandbox.js";
import type { SandboxContext } from "./sandbox-context.js";
import { cleanupSandboxFiles } from "./sandbox-files.js";
import { saveNetworkState } from "./sandbox-state-file.js";

/**
 * StopPodSandbox: stop the pod's containers, kill and delete the pause task, unmount the pod's
 * /dev/shm, and release its network (CNI DEL, which frees the IP, then the netns). Idempotent:
 * each step skips what is already gone, and a failed teardown is retried by the next stop.
 */
export async function stopPodSandbox(sc: SandboxContext, idOrPrefix: string, signal: AbortSignal): Promise<void> {
  const pod = sc.store.get(idOrPrefix);
  await sc.lock.run(pod.id, () => stopPod(sc, pod, signal));
}

/** The stop itself; the caller holds the pod's lock. */
export async function stopPod(sc: SandboxContext, pod: PodSandbox, signal: AbortSignal): Promise<void> {
  await sc.store.hooks.stopAll(pod.id, signal);
  // From here on the pod is being taken down: finish even if the caller goes away.
  const ctx: OpContext = criOpContext();
  if (sc.base.runtime !== undefined) await killAndDeletePauseTask(sc.base.runtime, ctx, pod.id);
  pod.status = { state: "notready", pid: 0 };
  cleanupSandboxFiles(pod.rootDir, pod.namespaces);
  if (!pod.networkReleased) {
    await sc.network.detach(pod.id, pod.netnsPath, pod.config);
    pod.networkReleased = true;
    await saveNetworkState(podFiles(pod.rootDir, pod.namespaces).stateFile, { netnsPath: pod.netnsPath, ips: pod.ips, released: true }).catch((err: unknown) => {
      // The root dir may already be gone when Remove runs after a half-finished remove.
      if (!isNotFound(err) && (err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    });
  }
}

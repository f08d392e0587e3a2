import { rm } from "node:fs/promises";
import { isNotFound } from "@berth/core";
import { criOpContext } from "../state/k8s-namespace.js";
import type { SandboxContext } from "./sandbox-context.js";
import { stopPod } from "./stop-pod-sandbox.js";

/**
 * RemovePodSandbox: stop the pod if needed, remove its containers, then its pause container
 * record, snapshot, root dir and name. A pod that does not exist is already removed: success,
 * as containerd answers.
 */
export async function removePodSandbox(sc: SandboxContext, idOrPrefix: string, signal: AbortSignal): Promise<void> {
  let id: string;
  try {
    id = sc.store.get(idOrPrefix).id;
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
  await sc.lock.run(id, async () => {
    const pod = sc.store.find(id);
    if (pod === undefined) return;
    await stopPod(sc, pod, signal);
    await sc.store.hooks.removeAll(id, signal);
    const ctx = criOpContext();
    await ignoreNotFound(sc.base.metadata.containers.delete(ctx, id));
    const snapshotter = sc.base.metadata.snapshotters.get(pod.snapshotter);
    if (snapshotter !== undefined) await ignoreNotFound(snapshotter.remove(ctx, id));
    await rm(pod.rootDir, { recursive: true, force: true });
    sc.store.delete(id);
    sc.base.state.sandboxIds.delete(id);
    sc.base.state.sandboxNames.releaseById(id);
  });
}

async function ignoreNotFound(p: Promise<void>): Promise<void> {
  await p.catch((err: unknown) => {
    if (!isNotFound(err)) throw err;
  });
}

import { isNotFound, type Container } from "@berth/core";
import { CONTAINER_KIND_LABEL, CONTAINER_KIND_SANDBOX, SANDBOX_METADATA_EXTENSION } from "../state/cri-labels.js";
import { criOpContext } from "../state/k8s-namespace.js";
import { podFiles, type PodSandbox, type SandboxStatus } from "./pod-sandbox.js";
import { sandboxRootDir, type SandboxContext } from "./sandbox-context.js";
import { unpackSandboxMetadata } from "./sandbox-metadata.js";
import { loadNetworkState } from "./sandbox-state-file.js";

/**
 * Rebuilds the pods after a daemon restart: every pause container record in k8s.io, with its
 * saved metadata, the network state file in its root dir (netns, IPs, whether it was released)
 * and its live task from the runtime (running → READY with its pid, else NOTREADY). A pod that
 * cannot be read is logged and left out, so one bad record does not keep the CRI down.
 */
export async function recoverSandboxes(sc: SandboxContext): Promise<void> {
  const ctx = criOpContext(sc.base.signal);
  const all = await sc.base.metadata.containers.list(ctx, []);
  const records = all.filter((c) => c.labels[CONTAINER_KIND_LABEL] === CONTAINER_KIND_SANDBOX);
  await Promise.all(
    records.map(async (record) => {
      try {
        const pod = await recoverOne(sc, record);
        sc.base.state.sandboxNames.reserve(pod.name, pod.id);
        sc.base.state.sandboxIds.add(pod.id);
        sc.store.add(pod);
      } catch (err) {
        sc.base.log.error("cri: cannot recover pod sandbox", { sandbox: record.id, error: String(err) });
      }
    }),
  );
}

async function recoverOne(sc: SandboxContext, record: Container): Promise<PodSandbox> {
  const extension = record.extensions[SANDBOX_METADATA_EXTENSION];
  if (extension === undefined) throw new Error(`container ${record.id} has no ${SANDBOX_METADATA_EXTENSION} extension`);
  const meta = unpackSandboxMetadata(extension);
  const rootDir = sandboxRootDir(sc.base, record.id);
  const saved = await loadNetworkState(podFiles(rootDir, meta.namespaces).stateFile);
  let ips = [...(saved?.ips ?? meta.ips)];
  const released = saved?.released ?? meta.namespaces.network === "node";
  if (ips.length === 0 && !released) ips = await sc.network.cachedIps(record.id);
  return {
    id: record.id,
    name: meta.name,
    config: meta.config,
    runtimeHandler: meta.runtimeHandler,
    runtimeType: record.runtime.name,
    runtimeOptions: record.runtime.options,
    image: meta.image,
    snapshotter: record.snapshotter,
    rootDir,
    namespaces: meta.namespaces,
    cgroupParent: meta.cgroupParent,
    createdAt: record.createdAt,
    netnsPath: saved?.netnsPath ?? meta.netnsPath,
    ips,
    networkReleased: released,
    status: await taskStatus(sc, record.id),
  };
}

async function taskStatus(sc: SandboxContext, id: string): Promise<SandboxStatus> {
  const runtime = sc.base.runtime;
  if (runtime === undefined) return { state: "unknown", pid: 0 };
  try {
    const task = await runtime.get(criOpContext(sc.base.signal), id);
    const state = await task.state(sc.base.signal);
    return state.status === "running" || state.status === "paused" ? { state: "ready", pid: state.pid } : { state: "notready", pid: 0 };
  } catch (err) {
    if (isNotFound(err)) return { state: "notready", pid: 0 };
    throw err;
  }
}

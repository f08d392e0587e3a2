import { mkdir, rm } from "node:fs/promises";
import { posix } from "node:path";
import type { criApi } from "@berth/api";
import { failedPrecondition, invalidArgument, isNotFound, type CallContext, type TypedValue } from "@berth/core";
import { specToJSON, type Spec } from "@berth/oci";
import { runtimeHandlerFor } from "../config/cri-config.js";
import { CONTAINER_KIND_LABEL, CONTAINER_KIND_SANDBOX, SANDBOX_METADATA_EXTENSION } from "../state/cri-labels.js";
import { normalizeImageRef } from "../image/image-reference.js";
import { sandboxName } from "../state/entity-names.js";
import { generateId } from "../state/generate-id.js";
import { criOpContext } from "../state/k8s-namespace.js";
import { sandboxNamespaces } from "./namespace-modes.js";
import { podOomScoreAdj, SANDBOX_OOM_SCORE_ADJ } from "./oom-score.js";
import { killAndDeletePauseTask, NULL_IO } from "./pause-task.js";
import { podFiles, type PodSandbox } from "./pod-sandbox.js";
import { createRollback } from "./rollback.js";
import { sandboxRootDir, type SandboxContext } from "./sandbox-context.js";
import { cleanupSandboxFiles, setupSandboxFiles } from "./sandbox-files.js";
import { packSandboxMetadata } from "./sandbox-metadata.js";
import { sandboxSpec } from "./sandbox-spec.js";
import { saveNetworkState } from "./sandbox-state-file.js";
import { runtimeOptionsFor } from "./runtime-options.js";

/** containerd's cgroup parent for pods the kubelet gives none: the namespace's own. */
export const DEFAULT_CGROUP_PARENT = "/k8s.io";

/** containerd's lease expiry label, so a lease a crash left behind does not hold resources forever. */
const GC_EXPIRE_LABEL = "containerd.io/gc.expire";
const LEASE_TTL_MS = 24 * 60 * 60 * 1000;

const SPEC_TYPE_URL = "types.containerd.io/opencontainers/runtime-spec/1/Spec";

/**
 * RunPodSandbox: reserve the name, make sure the sandbox image is here, give the pod a network
 * (unless it uses the host's), its files, a snapshot, a pause container record and a started
 * task. Any failure undoes every step already taken, so a failed pod holds no name, IP, netns,
 * mount, snapshot, record or task.
 */
export async function runPodSandbox(sc: SandboxContext, request: criApi.RunPodSandboxRequest, call: CallContext): Promise<{ podSandboxId: string }> {
  const { base } = sc;
  const config = request.config;
  const metadata = config?.metadata;
  if (config === undefined || metadata === undefined) throw invalidArgument("sandbox config must include metadata");
  if (metadata.name === "") throw invalidArgument("sandbox config must include metadata.name");
  const runtime = base.runtime;
  if (runtime === undefined) throw failedPrecondition("cri: no task runtime (io.containerd.runtime.v2.task) is loaded");
  const handler = runtimeHandlerFor(base.config, request.runtimeHandler);
  const namespaces = sandboxNamespaces(config);

  const id = generateId();
  const name = sandboxName(metadata);
  const log = base.log.with({ sandbox: id });
  const rollback = createRollback(log);
  // Cleanup must run to the end even when the caller gave up.
  const cleanupCtx = criOpContext();
  const ctx = criOpContext(call.signal);

  base.state.sandboxNames.reserve(name, id);
  rollback.add("release name", () => base.state.sandboxNames.releaseById(id));
  base.state.sandboxIds.add(id);
  rollback.add("forget id", () => base.state.sandboxIds.delete(id));
  try {
    const image = await base.images.ensure(ctx, base.config.sandboxImage);
    const snapshotterName = handler.snapshotter !== "" ? handler.snapshotter : base.images.snapshotter;
    const snapshotter = base.metadata.snapshotters.get(snapshotterName);
    if (snapshotter === undefined) throw failedPrecondition(`cri: snapshotter "${snapshotterName}" is not loaded`);

    const rootDir = sandboxRootDir(base, id);
    await mkdir(rootDir, { recursive: true, mode: 0o755 });
    rollback.add("remove root dir", () => rm(rootDir, { recursive: true, force: true }));
    const files = podFiles(rootDir, namespaces);

    let network = { netnsPath: "", ips: [] as string[] };
    if (namespaces.network === "pod") {
      network = await sc.network.attach(id, config, call.signal);
      rollback.add("tear down network", () => sc.network.detach(id, network.netnsPath, config));
    }
    await saveNetworkState(files.stateFile, { ...network, released: namespaces.network === "node" });

    await setupSandboxFiles(rootDir, config, namespaces);
    rollback.add("clean up files", () => cleanupSandboxFiles(rootDir, namespaces));

    // The snapshot is held by a lease until the container record refers to it, so a garbage
    // collection in between cannot take it; the lease goes when RunPodSandbox ends.
    const lease = await base.metadata.leases.create(ctx, { id: `cri-sandbox-${id}`, labels: { [GC_EXPIRE_LABEL]: new Date(Date.now() + LEASE_TTL_MS).toISOString() } });
    rollback.add("delete lease", () => base.metadata.leases.delete(cleanupCtx, lease.id));
    const leased = { ...ctx, lease: lease.id };
    const mounts = await snapshotter.prepare(leased, id, image.chainId, {});
    rollback.add("remove snapshot", () => snapshotter.remove(cleanupCtx, id));

    const cgroupParent = config.linux?.cgroupParent || DEFAULT_CGROUP_PARENT;
    const spec = await sandboxSpec({
      id,
      config,
      image: { name: base.config.sandboxImage, config: image.config },
      namespaces,
      netnsPath: network.netnsPath,
      rootDir,
      cgroupsPath: posix.join(cgroupParent, id),
      oomScoreAdj: await podOomScoreAdj(SANDBOX_OOM_SCORE_ADJ, base.config.restrictOomScoreAdj),
      podAnnotations: handler.podAnnotations,
      rootfsMounts: mounts,
      signal: call.signal,
    });

    const runtimeOptions = runtimeOptionsFor(handler);
    const pod: PodSandbox = {
      id,
      name,
      config,
      runtimeHandler: request.runtimeHandler,
      runtimeType: handler.runtimeType,
      runtimeOptions,
      image: normalizeImageRef(base.config.sandboxImage).name,
      snapshotter: snapshotterName,
      rootDir,
      namespaces,
      cgroupParent,
      createdAt: new Date(),
      netnsPath: network.netnsPath,
      ips: network.ips,
      networkReleased: namespaces.network === "node",
      status: { state: "unknown", pid: 0 },
    };
    const record = await base.metadata.containers.create(leased, {
      id,
      labels: { ...image.config.config?.Labels, ...config.labels, [CONTAINER_KIND_LABEL]: CONTAINER_KIND_SANDBOX },
      image: pod.image,
      runtime: { name: handler.runtimeType, options: runtimeOptions },
      spec: packSpec(spec),
      snapshotter: snapshotterName,
      snapshotKey: id,
      extensions: { [SANDBOX_METADATA_EXTENSION]: packSandboxMetadata(pod) },
      sandbox: "",
    });
    rollback.add("delete container record", async () => {
      await base.metadata.containers.delete(cleanupCtx, id).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    });

    const task = await runtime.create(ctx, id, {
      spec: record.spec,
      rootfs: mounts,
      io: NULL_IO,
      runtime: handler.runtimePath !== "" ? handler.runtimePath : handler.runtimeType,
      runtimeOptions,
    });
    rollback.add("delete task", () => killAndDeletePauseTask(runtime, cleanupCtx, id));
    await task.start(call.signal);
    const pid = await task.pid(call.signal);

    await base.metadata.leases.delete(cleanupCtx, lease.id).catch((err: unknown) => log.warn("cri: cannot delete sandbox lease", { error: String(err) }));
    const ready: PodSandbox = { ...pod, createdAt: record.createdAt, status: { state: "ready", pid } };
    sc.store.add(ready);
    // An exit before the pod was in the store had no pod to mark; look once more.
    const state = await task.state().catch(() => undefined);
    if (state === undefined || state.status === "stopped") ready.status = { state: "notready", pid: 0 };
    log.info("cri: pod sandbox ready", { name, pid, ips: network.ips.join(",") });
    return { podSandboxId: id };
  } catch (err) {
    log.warn("cri: RunPodSandbox failed; rolling back", { name, error: String(err) });
    await rollback.run();
    throw err;
  }
}

function packSpec(spec: Spec): TypedValue {
  return { typeUrl: SPEC_TYPE_URL, value: Buffer.from(specToJSON(spec)) };
}

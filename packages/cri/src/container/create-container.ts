import { join } from "node:path";
import { criApi } from "@berth/api";
import { invalidArgument, isNotFound, type CallContext, type Mount } from "@berth/core";
import { withMounts } from "@berth/mount";
import { specToJSON } from "@berth/oci";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { runtimeHandlerFor } from "../config/cri-config.js";
import { CONTAINER_KIND_CONTAINER, CONTAINER_KIND_LABEL, CONTAINER_METADATA_EXTENSION } from "../state/cri-labels.js";
import { containerName } from "../state/entity-names.js";
import { generateId } from "../state/generate-id.js";
import { buildContainerSpec } from "./build-container-spec.js";
import { opContext, snapshotterOf, type ContainerContext } from "./container-context.js";
import { ContainerEventType, publishContainerEvent } from "./container-event-publish.js";
import { packContainerMetadata } from "./container-metadata.js";
import type { ContainerRecord } from "./container-record.js";
import type { ContainerEntry } from "./container-store.js";
import { parseStopSignal } from "./stop-signal.js";

export const SPEC_TYPE_URL = "types.containerd.io/opencontainers/runtime-spec/1/Spec";

/**
 * CreateContainer: reserves the name, prepares a writable snapshot on the image's top layer,
 * builds the spec (reading users from that snapshot), and stores the container record (spec,
 * snapshot, runtime, CRI labels and metadata) in k8s.io. No task yet: StartContainer makes it.
 * Anything done is undone when a later step fails.
 */
export async function createContainer(
  c: ContainerContext,
  r: criApi.CreateContainerRequest,
  call: CallContext,
): Promise<MessageInitShape<typeof criApi.CreateContainerResponseSchema>> {
  const config = r.config;
  if (config?.metadata === undefined) throw invalidArgument("container config must include metadata");
  if (config.image === undefined || config.image.image === "") throw invalidArgument("container config must include an image");
  const pod = c.sandboxes.sandbox(r.podSandboxId);
  const podMeta = pod.config.metadata;
  if (podMeta === undefined) throw invalidArgument(`sandbox ${pod.id} has no metadata`);
  const id = generateId();
  const name = containerName(config.metadata, podMeta);
  const ctx = opContext(call.signal);
  const undo: (() => Promise<void>)[] = [];
  c.base.state.containerNames.reserve(name, id);
  undo.push(async () => c.base.state.containerNames.releaseByName(name));
  try {
    const image = await c.base.images.get(ctx, config.image.image).catch((err: unknown) => {
      if (isNotFound(err)) throw invalidArgument(`failed to resolve image "${config.image?.image}": not found`, err);
      throw err;
    });
    const handler = runtimeHandlerFor(c.base.config, pod.runtimeHandler);
    const snapshotterName = handler.snapshotter || c.base.images.snapshotter;
    const snapshotter = snapshotterOf(c, snapshotterName);
    // A lease keeps the new snapshot from garbage collection until the record refers to it.
    const lease = `cri-create-${id}`;
    await c.base.metadata.leases.create(ctx, { id: lease, labels: {} });
    const leased = { ...ctx, lease };
    try {
      const mounts: Mount[] = await snapshotter.prepare(leased, id, image.chainId);
      undo.push(() => snapshotter.remove(opContext(), id).catch(() => undefined));
      const targetPid = targetPidOf(c, config);
      const spec = await withMounts(
        mounts,
        (rootfs) =>
          buildContainerSpec({
            id,
            name,
            config,
            pod,
            image: image.config.config,
            imageName: config.image!.image,
            rootfs,
            runtime: handler,
            restrictOomScoreAdj: c.base.config.restrictOomScoreAdj,
            targetPid,
          }),
        { signal: call.signal, tempDir: c.base.stateDir },
      );
      const logDir = pod.config.logDirectory;
      const record: Omit<ContainerRecord, "status"> = {
        id,
        sandboxId: pod.id,
        name,
        config,
        imageName: config.image.image,
        imageId: image.id,
        logPath: config.logPath !== "" && logDir !== "" ? join(logDir, config.logPath) : config.logPath,
        runtimeHandler: pod.runtimeHandler,
        stopSignal: parseStopSignal(image.config.config?.StopSignal),
        snapshotter: snapshotterName,
      };
      await c.base.metadata.containers.create(leased, {
        id,
        labels: { ...(image.config.config?.Labels ?? {}), ...config.labels, [CONTAINER_KIND_LABEL]: CONTAINER_KIND_CONTAINER },
        image: image.references[0] ?? image.id,
        runtime: { name: pod.runtimeType, options: pod.runtimeOptions },
        spec: { typeUrl: SPEC_TYPE_URL, value: Buffer.from(specToJSON(spec)) },
        snapshotter: snapshotterName,
        snapshotKey: id,
        extensions: { [CONTAINER_METADATA_EXTENSION]: packContainerMetadata(record) },
        sandbox: pod.id,
      });
      undo.push(() => c.base.metadata.containers.delete(opContext(), id).catch(() => undefined));
      const entry: ContainerEntry = {
        record: {
          ...record,
          status: { state: "created", pid: 0, createdAt: c.clock.now(), startedAt: 0n, finishedAt: 0n, exitCode: 0, reason: "", message: "", removing: false, oomKilled: false },
        },
        io: undefined,
      };
      await c.store.saveStatus(entry);
      c.store.add(entry);
      await publishContainerEvent(c, entry, ContainerEventType.created);
      return { containerId: id };
    } finally {
      await c.base.metadata.leases.delete(opContext(), lease).catch(() => undefined);
    }
  } catch (err) {
    for (const fn of undo.reverse()) await fn().catch(() => undefined);
    await c.store.removeFiles(id).catch(() => undefined);
    throw err;
  }
}

/** For a container that joins another container's PID namespace (NamespaceMode TARGET). */
function targetPidOf(c: ContainerContext, config: criApi.ContainerConfig): number | undefined {
  const ns = config.linux?.securityContext?.namespaceOptions;
  if (ns?.pid !== 3) return undefined;
  const target = c.store.get(ns.targetId);
  if (target.record.status.state !== "running") throw invalidArgument(`target container ${ns.targetId} is not running`);
  return target.record.status.pid;
}

import { isNotFound, type Logger } from "@berth/core";
import { CONTAINER_KIND_CONTAINER, CONTAINER_KIND_LABEL, CONTAINER_METADATA_EXTENSION } from "../state/cri-labels.js";
import { containerIoOptions, opContext, type ContainerContext } from "./container-context.js";
import { reconnectContainerIo } from "./container-io.js";
import { unpackContainerMetadata } from "./container-metadata.js";
import type { ContainerStatusData } from "./container-record.js";
import type { ContainerEntry } from "./container-store.js";

/**
 * After a restart: every CRI container in k8s.io back in memory, its name reserved, its status
 * from its status file reconciled with its task. A running task gets its log writer and attach
 * back (the FIFOs are still there) and is watched again; a task that exited while the daemon
 * was away has its exit recorded; a container whose task vanished is exited with code 255.
 */
export async function recoverContainers(c: ContainerContext, log: Logger): Promise<void> {
  const ctx = opContext();
  const records = await c.base.metadata.containers.list(ctx, [`labels."${CONTAINER_KIND_LABEL}"==${CONTAINER_KIND_CONTAINER}`]);
  for (const container of records) {
    const ext = container.extensions[CONTAINER_METADATA_EXTENSION];
    if (ext === undefined) continue;
    try {
      const meta = unpackContainerMetadata(ext);
      const saved = await c.store.loadStatus(meta.id);
      const status: ContainerStatusData = saved ?? {
        state: "created",
        pid: 0,
        createdAt: BigInt(container.createdAt.getTime()) * 1_000_000n,
        startedAt: 0n,
        finishedAt: 0n,
        exitCode: 0,
        reason: "",
        message: "",
        removing: false,
        oomKilled: false,
      };
      const entry: ContainerEntry = { record: { ...meta, status }, io: undefined };
      c.base.state.containerNames.reserve(meta.name, meta.id);
      c.store.add(entry);
      await reconcileTask(c, entry, log);
    } catch (err) {
      log.warn("cri: could not recover a container", { id: container.id, error: err });
    }
  }
}

async function reconcileTask(c: ContainerContext, entry: ContainerEntry, log: Logger): Promise<void> {
  const { record } = entry;
  const status = record.status;
  if (status.state === "exited" || c.base.runtime === undefined) return;
  let task;
  try {
    task = await c.base.runtime.get(opContext(), record.id);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    if (status.state === "created") return;
    // It ran, and its task is gone with its exit status.
    status.state = "exited";
    status.exitCode = 255;
    status.reason = "Unknown";
    status.finishedAt = c.clock.now();
    await c.store.saveStatus(entry);
    return;
  }
  const state = await task.state();
  if (state.status === "stopped") {
    status.state = "running";
    await c.exits.recordExit(entry, { status: state.exitStatus, exitedAt: state.exitedAt ?? new Date() });
    return;
  }
  if (status.state === "created" || status.state === "unknown") {
    // Started just before the daemon went down: the task tells the rest.
    status.startedAt = status.startedAt || c.clock.now();
  }
  status.state = "running";
  status.pid = state.pid;
  try {
    entry.io = await reconnectContainerIo(containerIoOptions(c, record, () => task.closeIO()));
  } catch (err) {
    log.warn("cri: could not reattach a running container's log", { id: record.id, error: err });
  }
  await c.store.saveStatus(entry);
  c.exits.watch(entry, task);
}

import { rm } from "node:fs/promises";
import { dirname } from "node:path";
import { isNotFound } from "@berth/core";
import { containerIoDir, opContext, snapshotterOf, taskRuntime, type ContainerContext } from "./container-context.js";
import { ContainerEventType, publishContainerEvent } from "./container-event-publish.js";
import type { ContainerEntry } from "./container-store.js";
import { stopContainerEntry } from "./stop-container.js";

/**
 * Removes a container: stopped at once if it still runs, then its task, record and snapshot,
 * its FIFOs and status; the name is free again. The log file stays: the kubelet owns it.
 */
export async function removeContainerEntry(c: ContainerContext, entry: ContainerEntry, signal?: AbortSignal): Promise<void> {
  const { record } = entry;
  await stopContainerEntry(c, entry, 0, signal);
  record.status.removing = true;
  const ctx = opContext();
  const ignoreNotFound = (err: unknown) => {
    if (!isNotFound(err)) throw err;
  };
  if (c.base.runtime !== undefined) await taskRuntime(c).delete(ctx, record.id).catch(ignoreNotFound);
  await c.base.metadata.containers.delete(ctx, record.id).catch(ignoreNotFound);
  await snapshotterOf(c, record.snapshotter).remove(ctx, record.id).catch(ignoreNotFound);
  if (entry.io !== undefined) await entry.io.remove();
  await rm(dirname(containerIoDir(c, record.id)), { recursive: true, force: true });
  await c.store.removeFiles(record.id);
  c.store.delete(record.id);
  c.exits.forget(record.id);
  c.base.state.containerNames.releaseById(record.id);
  await publishContainerEvent(c, entry, ContainerEventType.deleted).catch(() => undefined);
}

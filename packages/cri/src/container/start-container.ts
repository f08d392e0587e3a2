import type { criApi } from "@berth/api";
import { failedPrecondition, type CallContext, type RuntimeTask } from "@berth/core";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { containerIoOptions, opContext, snapshotterOf, taskRuntime, type ContainerContext } from "./container-context.js";
import { ContainerEventType, publishContainerEvent } from "./container-event-publish.js";
import { createContainerIo } from "./container-io.js";

/** The exit code and reason containerd records for a container whose task could not start. */
const START_ERROR_EXIT_CODE = 128;
const START_ERROR_REASON = "StartError";

/**
 * StartContainer: the container's FIFOs (read by this daemon into the CRI log), its task from
 * the stored spec on the snapshot's mounts, in the pod's runtime, then started. A failure
 * leaves the container exited with StartError, as containerd does.
 */
export async function startContainer(
  c: ContainerContext,
  r: criApi.StartContainerRequest,
  call: CallContext,
): Promise<MessageInitShape<typeof criApi.StartContainerResponseSchema>> {
  const entry = c.store.get(r.containerId);
  const { record } = entry;
  const status = record.status;
  if (status.state !== "created") throw failedPrecondition(`container ${record.id} is in ${stateName(status.state)} state`);
  const pod = c.sandboxes.sandbox(record.sandboxId);
  if (pod.state !== "ready") throw failedPrecondition(`sandbox container ${pod.id} is not running`);
  const runtime = taskRuntime(c);
  const ctx = opContext(call.signal);
  // Starting: another StartContainer now fails the state check.
  status.state = "unknown";
  let task: RuntimeTask | undefined;
  try {
    const container = await c.base.metadata.containers.get(ctx, record.id);
    const mounts = await snapshotterOf(c, container.snapshotter).mounts(ctx, container.snapshotKey);
    const io = await createContainerIo(
      containerIoOptions(c, record, async () => {
        const t = await runtime.get(opContext(), record.id);
        await t.closeIO();
      }),
    );
    entry.io = io;
    try {
      task = await runtime.create(ctx, record.id, {
        spec: container.spec,
        rootfs: mounts,
        io: io.paths,
        runtime: container.runtime.name,
        runtimeOptions: container.runtime.options,
        sandboxId: record.sandboxId,
      });
      await task.start(call.signal);
    } finally {
      io.started();
    }
    status.pid = await task.pid();
    status.startedAt = c.clock.now();
    status.state = "running";
  } catch (err) {
    status.state = "exited";
    status.exitCode = START_ERROR_EXIT_CODE;
    status.reason = START_ERROR_REASON;
    status.message = (err as Error).message ?? String(err);
    status.finishedAt = c.clock.now();
    if (task !== undefined) await runtime.delete(opContext(), record.id).catch(() => undefined);
    await entry.io?.close();
    await c.store.saveStatus(entry).catch(() => undefined);
    throw err;
  }
  await c.store.saveStatus(entry);
  c.exits.watch(entry, task);
  await publishContainerEvent(c, entry, ContainerEventType.started);
  return {};
}

export function stateName(state: string): string {
  return `CONTAINER_${state.toUpperCase()}`;
}

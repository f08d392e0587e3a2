import type { criApi } from "@berth/api";
import { failedPrecondition, type CallContext } from "@berth/core";
import { parseSpec, specToJSON } from "@berth/oci";
import { opContext, taskRuntime, type ContainerContext } from "./container-context.js";
import { SPEC_TYPE_URL } from "./create-container.js";
import { criResourcesToOci } from "./resource-opts.js";
import { stateName } from "./start-container.js";

/** The type URL containerd gives LinuxResources in a task update: JSON, as the spec has it. */
export const LINUX_RESOURCES_TYPE_URL = "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources";

/**
 * UpdateContainerResources: the new resources go into the stored spec (so a restart keeps them)
 * and, for a running container, to its task. Only created and running containers take them.
 */
export async function updateContainerResources(c: ContainerContext, r: criApi.UpdateContainerResourcesRequest, call: CallContext): Promise<void> {
  const entry = c.store.get(r.containerId);
  const { status } = entry.record;
  if (status.state !== "created" && status.state !== "running") throw failedPrecondition(`container ${entry.record.id} is in ${stateName(status.state)} state`);
  const wanted = r.linux;
  if (wanted === undefined) return;
  const ctx = opContext(call.signal);
  const container = await c.base.metadata.containers.get(ctx, entry.record.id);
  if (container.spec === undefined) throw failedPrecondition(`container ${entry.record.id} has no spec`);
  const spec = parseSpec(Buffer.from(container.spec.value).toString("utf8"));
  const linux = (spec.linux ??= {});
  const resources = criResourcesToOci(wanted, structuredClone(linux.resources ?? {}));
  linux.resources = resources;
  await c.base.metadata.containers.update(ctx, { ...container, spec: { typeUrl: SPEC_TYPE_URL, value: Buffer.from(specToJSON(spec)) } }, ["spec"]);
  // The container's config reports the resources in ContainerStatus.
  const lc = entry.record.config.linux;
  if (lc !== undefined) lc.resources = wanted;
  if (status.state !== "running") return;
  const task = await taskRuntime(c).get(ctx, entry.record.id);
  await task.update({ typeUrl: LINUX_RESOURCES_TYPE_URL, value: Buffer.from(JSON.stringify(resources)) }, r.annotations, call.signal);
}

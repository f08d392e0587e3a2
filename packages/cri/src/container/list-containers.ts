import type { criApi } from "@berth/api";
import type { ContainerContext } from "./container-context.js";
import { CONTAINER_STATE_TO_CRI } from "./container-record.js";
import type { ContainerEntry } from "./container-store.js";

/** A filter's ID or pod ID as a prefix resolves; undefined = matches nothing. */
function resolveOr(resolve: () => string): string | undefined {
  try {
    return resolve();
  } catch {
    return undefined;
  }
}

/**
 * The containers a ContainerFilter (or ContainerStatsFilter) selects: ID and pod ID by full
 * value or unique prefix, state, and every label of the selector. A prefix that matches
 * nothing selects nothing (not an error), as in containerd.
 */
export function filterContainers(
  c: ContainerContext,
  filter: { id: string; podSandboxId: string; labelSelector: { [k: string]: string }; state?: criApi.ContainerStateValue | undefined } | undefined,
): ContainerEntry[] {
  let entries = c.store.list().filter((e) => !e.record.status.removing);
  if (filter === undefined) return entries;
  if (filter.id !== "") {
    const id = resolveOr(() => c.store.get(filter.id).record.id);
    entries = entries.filter((e) => e.record.id === id);
  }
  if (filter.podSandboxId !== "") {
    const podId = resolveOr(() => c.sandboxes.sandbox(filter.podSandboxId).id) ?? filter.podSandboxId;
    entries = entries.filter((e) => e.record.sandboxId === podId);
  }
  if (filter.state !== undefined) {
    const want = filter.state.state;
    entries = entries.filter((e) => CONTAINER_STATE_TO_CRI[e.record.status.state] === want);
  }
  const selector = Object.entries(filter.labelSelector);
  if (selector.length > 0) entries = entries.filter((e) => selector.every(([k, v]) => e.record.config.labels[k] === v));
  return entries;
}

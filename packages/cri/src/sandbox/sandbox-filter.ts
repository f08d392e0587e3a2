import type { PodSandbox } from "./pod-sandbox.js";
import { stateOf } from "./convert-sandbox.js";
import type { criApi } from "@berth/api";

/**
 * The pods a ListPodSandbox or ListPodSandboxStats filter selects: an ID (full or a unique
 * prefix; one that matches nothing selects nothing), a state, and labels that must all match.
 */
export function filterPods(pods: readonly PodSandbox[], filter: { id: string; state?: criApi.PodSandboxStateValue | undefined; labelSelector: Readonly<Record<string, string>> } | undefined): PodSandbox[] {
  if (filter === undefined) return [...pods];
  let selected = [...pods];
  if (filter.id !== "") {
    const matching = selected.filter((p) => p.id.startsWith(filter.id));
    // An ambiguous prefix selects nothing rather than failing the list, as containerd does.
    selected = matching.length === 1 ? matching : matching.filter((p) => p.id === filter.id);
  }
  if (filter.state !== undefined) selected = selected.filter((p) => stateOf(p) === filter.state!.state);
  const wanted = Object.entries(filter.labelSelector);
  if (wanted.length > 0) selected = selected.filter((p) => wanted.every(([k, v]) => p.config.labels[k] === v));
  return selected;
}

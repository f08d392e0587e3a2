import type { BerthError } from "../errdefs/index.js";
import type { PluginMeta } from "../plugin/init-context.js";

export type PluginState = "ok" | "error" | "skip";

/** The outcome of loading one plugin, as introspection reports it. */
export interface PluginStatus {
  readonly type: string;
  readonly id: string;
  readonly uri: string;
  readonly requires: readonly string[];
  readonly state: PluginState;
  /** Set for "error" and "skip"; a skip's message starts with "skip plugin:". */
  readonly error: BerthError | undefined;
  readonly meta: PluginMeta;
}

/** Whether plugin `type`.`id` loaded and lists `capability` (what `ctr plugins ls -d` shows). */
export function hasCapability(statuses: readonly PluginStatus[], type: string, id: string, capability: string): boolean {
  const status = statuses.find((s) => s.type === type && s.id === id);
  return status?.state === "ok" && status.meta.capabilities.has(capability);
}

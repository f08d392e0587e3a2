import { BerthError } from "../errdefs/index.js";
import type { Schema } from "../config/schema.js";
import type { InitContext } from "./init-context.js";
import type { PluginType } from "./plugin-type.js";

const REGISTRATION = Symbol.for("berth.plugin.registration.v1");

/** The types a plugin may look up: a list of type tokens, or "*" for every type. */
export type Requires = readonly PluginType<unknown>[] | "*";

/**
 * A plugin, as data: what it is (type + id), what it needs (requires), its config schema and
 * how to make its instance. Registrations are ordered only by `requires`, never by import order.
 */
export interface PluginRegistration<T = unknown, C = unknown, R extends Requires = Requires> {
  readonly [REGISTRATION]: true;
  readonly type: PluginType<T>;
  readonly id: string;
  readonly requires: R;
  readonly config: Schema<C> | undefined;
  init(ctx: InitContext<R>, config: C): Promise<T> | T;
}

export interface PluginDefinition<T, C, R extends Requires> {
  type: PluginType<T>;
  id: string;
  requires?: R;
  config?: Schema<C>;
  init(ctx: InitContext<R>, config: C): Promise<T> | T;
}

export function definePlugin<T, C = Record<string, never>, const R extends Requires = readonly []>(
  def: PluginDefinition<T, C, R>,
): PluginRegistration<T, C, R> {
  return {
    [REGISTRATION]: true,
    type: def.type,
    id: def.id,
    requires: (def.requires ?? []) as R,
    config: def.config,
    init: def.init,
  };
}

/** True for values made by definePlugin (in this or any other copy of core). */
export function isPluginRegistration(value: unknown): value is PluginRegistration {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[REGISTRATION] === true;
}

const SKIP = Symbol.for("berth.plugin.skip.v1");

/**
 * Thrown from init when a plugin does not apply here (no btrfs, no kernel feature): the
 * plugin is listed as skipped with its reason, not as broken. The message contains
 * "skip plugin" because `ctr plugins ls` looks for that text.
 */
export function skipPlugin(reason: string): BerthError {
  const err = new BerthError("FailedPrecondition", `skip plugin: ${reason}`);
  Object.defineProperty(err, SKIP, { value: true });
  return err;
}

export function isSkipPlugin(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as Record<symbol, unknown>)[SKIP] === true;
}

/** `io.containerd.grpc.v1.version`: the plugin's URI, used for its dirs, config and logs. */
export function pluginUri(reg: Pick<PluginRegistration, "type" | "id">): string {
  return `${reg.type.uri}.${reg.id}`;
}

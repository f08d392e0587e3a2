import type { Logger } from "../logging/index.js";
import type { PluginStatus } from "../loader/plugin-status.js";
import type { Requires } from "./define-plugin.js";
import type { PluginType } from "./plugin-type.js";

/** Platforms a plugin supports, as OCI platform fields. */
export interface PlatformSpec {
  os: string;
  architecture: string;
  variant?: string;
}

/** What a plugin tells introspection about itself while it initialises. */
export interface PluginMeta {
  readonly platforms: PlatformSpec[];
  readonly exports: Record<string, string>;
  readonly capabilities: Set<string>;
}

/** Where the daemon lives, for plugins that hand addresses to other processes (shims). */
export interface DaemonInfo {
  readonly root: string;
  readonly state: string;
  readonly grpcAddress: string;
  readonly ttrpcAddress: string;
}

type Allowed<R extends Requires> = R extends readonly PluginType<unknown>[] ? R[number] : PluginType<unknown>;

/**
 * What a plugin gets while it initialises. Lookups are limited to the types in `requires`
 * (checked by the compiler and again at run time), so every dependency is declared.
 */
export interface InitContext<R extends Requires = Requires> {
  readonly type: string;
  readonly id: string;
  /** `<type>.<id>` */
  readonly uri: string;
  /** `<root>/<type>.<id>`, created before init. */
  readonly rootDir: string;
  /** `<state>/<type>.<id>`, created before init. */
  readonly stateDir: string;
  readonly daemon: DaemonInfo;
  readonly log: Logger;
  /** Aborted when the daemon starts shutting down. */
  readonly signal: AbortSignal;
  readonly meta: PluginMeta;

  /** The one loaded plugin of `type`; NotFound if none loaded, FailedPrecondition if several. */
  single<T>(type: PluginType<T> & Allowed<R>): T;
  /** The loaded plugin `type`.`id`; NotFound if it did not load. */
  get<T>(type: PluginType<T> & Allowed<R>, id: string): T;
  /** Every loaded plugin of `type`, by id, in load order. */
  all<T>(type: PluginType<T> & Allowed<R>): ReadonlyMap<string, T>;
  /** The status of every plugin, live: later plugins appear as they load. For introspection. */
  statuses(): readonly PluginStatus[];
  /** Runs at shutdown; plugins close in reverse load order. */
  onClose(fn: () => Promise<void> | void): void;
}

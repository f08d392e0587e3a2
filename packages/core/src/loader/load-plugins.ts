import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import {
  BerthError,
  alreadyExists,
  failedPrecondition,
  isBerthError,
  notFound,
  unknown as unknownError,
} from "../errdefs/index.js";
import { schemaDefaults } from "../config/schema.js";
import type { Logger } from "../logging/index.js";
import { isSkipPlugin, pluginUri, type PluginRegistration } from "../plugin/define-plugin.js";
import type { DaemonInfo, InitContext, PluginMeta } from "../plugin/init-context.js";
import type { PluginType } from "../plugin/plugin-type.js";
import { orderPlugins } from "./order.js";
import type { PluginStatus } from "./plugin-status.js";

export interface LoadOptions {
  readonly plugins: readonly PluginRegistration[];
  /** Decoded config per plugin URI; a plugin without an entry gets its schema's defaults. */
  readonly configs: ReadonlyMap<string, unknown>;
  /** URIs (`type.id`) not to load at all. */
  readonly disabled: readonly string[];
  /** URIs that must load; if one does not, loading fails and everything loaded is closed. */
  readonly required: readonly string[];
  readonly daemon: DaemonInfo;
  readonly log: Logger;
  /** How long one plugin's init may take before it is recorded as failed. */
  readonly initTimeoutMs?: number;
}

/** The plugins of a running daemon: their instances, statuses, and how to close them. */
export interface LoadedPlugins {
  statuses(): readonly PluginStatus[];
  get<T>(type: PluginType<T>, id: string): T | undefined;
  /**
   * Every plugin of `type`, by id. The map is live: plugins added or removed later through
   * `register`/`unregister` show up in it, so a consumer that keeps it (metadata keeps the
   * snapshotters) sees them at once.
   */
  all<T>(type: PluginType<T>): ReadonlyMap<string, T>;
  /**
   * Adds a plugin instance made outside the loader while the daemon runs (a proxy plugin
   * registered at run time): it is listed by `statuses()` and found by `get`/`all` at once.
   * AlreadyExists when `type`.`id` is taken.
   */
  register<T>(plugin: AddedPlugin<T>): void;
  /**
   * Removes a plugin added by `register` and runs its close hook. NotFound when there is none;
   * FailedPrecondition for a plugin loaded at start (others may hold it since their init).
   */
  unregister(type: PluginType<unknown>, id: string): Promise<void>;
  /** Aborts init contexts' signals, then runs close hooks in reverse load order. */
  close(): Promise<void>;
}

/** A plugin added while the daemon runs; see LoadedPlugins.register. */
export interface AddedPlugin<T> {
  readonly type: PluginType<T>;
  readonly id: string;
  readonly instance: T;
  /** What introspection shows; default no platforms, exports or capabilities. */
  readonly meta?: PluginMeta;
  /** Runs on unregister and at shutdown. */
  readonly close?: () => Promise<void> | void;
}

const DEFAULT_INIT_TIMEOUT_MS = 60_000;

/**
 * Initialises plugins in dependency order. A plugin that fails is recorded with its error and
 * loading goes on, except for required plugins; dependents of a type whose every plugin failed
 * are recorded as blocked by it without being initialised.
 */
export async function loadPlugins(opts: LoadOptions): Promise<LoadedPlugins> {
  const disabled = new Set(opts.disabled);
  const required = new Set(opts.required);
  const order = orderPlugins(opts.plugins.filter((reg) => !disabled.has(pluginUri(reg))));
  const statuses: PluginStatus[] = [];
  const instances = new Map<string, Map<string, unknown>>(); // type URI → id → instance
  const closers: { uri: string; fn: () => Promise<void> | void }[] = [];
  const shutdown = new AbortController();
  const added = new Map<string, AddedPlugin<unknown>>(); // URI → plugins added by register

  const loaded: LoadedPlugins = {
    statuses: () => statuses,
    get: <T>(type: PluginType<T>, id: string) => instances.get(type.uri)?.get(id) as T | undefined,
    all: <T>(type: PluginType<T>) => instancesOf(instances, type.uri) as ReadonlyMap<string, T>,
    register: (plugin) => {
      const uri = pluginUri({ type: plugin.type, id: plugin.id });
      if (statuses.some((s) => s.uri === uri)) throw alreadyExists(`plugin ${uri} already exists`);
      instancesOf(instances, plugin.type.uri).set(plugin.id, plugin.instance);
      added.set(uri, plugin as AddedPlugin<unknown>);
      statuses.push({
        type: plugin.type.uri,
        id: plugin.id,
        uri,
        requires: [],
        state: "ok",
        error: undefined,
        meta: plugin.meta ?? { platforms: [], exports: {}, capabilities: new Set() },
      });
      opts.log.info("registered plugin", { plugin: uri });
    },
    unregister: async (type, id) => {
      const uri = pluginUri({ type, id });
      const plugin = added.get(uri);
      if (!plugin) {
        if (statuses.some((s) => s.uri === uri)) throw failedPrecondition(`plugin ${uri} was loaded at start and cannot be unregistered`);
        throw notFound(`plugin ${uri} not found`);
      }
      added.delete(uri);
      instances.get(type.uri)?.delete(id);
      const at = statuses.findIndex((s) => s.uri === uri);
      if (at >= 0) statuses.splice(at, 1);
      opts.log.info("unregistered plugin", { plugin: uri });
      await plugin.close?.();
    },
    close: async () => {
      shutdown.abort();
      // Plugins added at run time came last; they go first.
      for (const [uri, plugin] of [...added].reverse()) {
        added.delete(uri);
        try {
          await plugin.close?.();
        } catch (err) {
          opts.log.error("plugin close failed", { plugin: uri, error: err });
        }
      }
      for (const { uri, fn } of closers.splice(0).reverse()) {
        try {
          await fn();
        } catch (err) {
          opts.log.error("plugin close failed", { plugin: uri, error: err });
        }
      }
    },
  };

  for (const reg of order) {
    const uri = pluginUri(reg);
    const meta: PluginMeta = { platforms: [], exports: {}, capabilities: new Set() };
    const record = (state: PluginStatus["state"], error?: BerthError) =>
      statuses.push({
        type: reg.type.uri,
        id: reg.id,
        uri,
        requires: reg.requires === "*" ? ["*"] : reg.requires.map((t) => t.uri),
        state,
        error,
        meta,
      });

    const blocker = blockedBy(reg, statuses);
    if (blocker) {
      record("error", failedPrecondition(`blocked by ${blocker.uri}: ${blocker.error?.message ?? "failed"}`));
    } else {
      try {
        const rootDir = join(opts.daemon.root, uri);
        const stateDir = join(opts.daemon.state, uri);
        await mkdir(rootDir, { recursive: true, mode: 0o711 });
        await mkdir(stateDir, { recursive: true, mode: 0o711 });
        const ctx = createInitContext(reg, { rootDir, stateDir, meta, instances, statuses, closers, opts, signal: shutdown.signal });
        const config = opts.configs.get(uri) ?? (reg.config ? schemaDefaults(reg.config) : {});
        const instance = await withTimeout(Promise.resolve(reg.init(ctx as InitContext, config)), opts.initTimeoutMs ?? DEFAULT_INIT_TIMEOUT_MS, uri);
        instancesOf(instances, reg.type.uri).set(reg.id, instance);
        record("ok");
        opts.log.debug("loaded plugin", { plugin: uri });
      } catch (err) {
        if (isSkipPlugin(err)) {
          record("skip", err as BerthError);
          opts.log.info("skip loading plugin", { plugin: uri, reason: (err as Error).message });
        } else {
          const error = isBerthError(err) ? err : unknownError(err instanceof Error ? err.message : String(err), err);
          record("error", error);
          opts.log.warn("failed to load plugin", { plugin: uri, error: error.message });
        }
      }
    }

    const status = statuses[statuses.length - 1]!;
    if (required.has(uri) && status.state !== "ok") {
      await loaded.close();
      throw failedPrecondition(`required plugin ${uri} did not load: ${status.error?.message ?? status.state}`, status.error);
    }
  }

  const missing = [...required].filter((uri) => !statuses.some((s) => s.uri === uri));
  if (missing.length > 0) {
    await loaded.close();
    const why = (uri: string) => (disabled.has(uri) ? "disabled" : "not installed");
    throw failedPrecondition(`required plugins did not load: ${missing.map((u) => `${u} (${why(u)})`).join(", ")}`);
  }
  return loaded;
}

/**
 * The one map of `uri`'s instances, made on first use: every `all()` hands out this same map,
 * which is what keeps it live for plugins registered later.
 */
function instancesOf(instances: Map<string, Map<string, unknown>>, uri: string): Map<string, unknown> {
  let ofType = instances.get(uri);
  if (!ofType) {
    ofType = new Map();
    instances.set(uri, ofType);
  }
  return ofType;
}

/** The first failed plugin of a required type whose plugins all failed, if any. */
function blockedBy(reg: PluginRegistration, statuses: readonly PluginStatus[]): PluginStatus | undefined {
  if (reg.requires === "*") return undefined;
  for (const type of reg.requires) {
    if (type.optional === true) continue;
    const ofType = statuses.filter((s) => s.type === type.uri);
    if (ofType.length > 0 && ofType.every((s) => s.state !== "ok")) {
      const failed = ofType.find((s) => s.state === "error");
      if (failed) return failed;
    }
  }
  return undefined;
}

interface ContextParts {
  rootDir: string;
  stateDir: string;
  meta: PluginMeta;
  instances: Map<string, Map<string, unknown>>;
  statuses: readonly PluginStatus[];
  closers: { uri: string; fn: () => Promise<void> | void }[];
  opts: LoadOptions;
  signal: AbortSignal;
}

function createInitContext(reg: PluginRegistration, parts: ContextParts): InitContext {
  const uri = pluginUri(reg);
  const allowed = reg.requires === "*" ? undefined : new Set(reg.requires.map((t) => t.uri));
  const ofType = (type: PluginType<unknown>) => {
    if (allowed && !allowed.has(type.uri)) {
      throw failedPrecondition(`plugin ${uri} looked up ${type.uri}, which it does not list in requires`);
    }
    return instancesOf(parts.instances, type.uri);
  };
  return {
    type: reg.type.uri,
    id: reg.id,
    uri,
    rootDir: parts.rootDir,
    stateDir: parts.stateDir,
    daemon: parts.opts.daemon,
    log: parts.opts.log.with({ plugin: uri }),
    signal: parts.signal,
    meta: parts.meta,
    single: <T>(type: PluginType<T>): T => {
      const found = ofType(type);
      if (found.size === 0) throw notFound(`no plugins registered for ${type.uri}`);
      if (found.size > 1) throw failedPrecondition(`more than one plugin loaded for ${type.uri}: ${[...found.keys()].join(", ")}`);
      return found.values().next().value as T;
    },
    get: <T>(type: PluginType<T>, id: string): T => {
      const found = ofType(type);
      if (!found.has(id)) throw notFound(`plugin ${type.uri}.${id} not loaded`);
      return found.get(id) as T;
    },
    all: <T>(type: PluginType<T>) => ofType(type) as ReadonlyMap<string, T>,
    statuses: () => parts.statuses,
    onClose: (fn) => parts.closers.push({ uri, fn }),
  } as InitContext;
}

async function withTimeout<T>(work: Promise<T>, ms: number, uri: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BerthError("DeadlineExceeded", `plugin ${uri} did not finish init within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

import { isAbsolute, join } from "node:path";
import { alreadyExists, failedPrecondition, invalidArgument, notFound, type LoadedPlugins, type Logger } from "@berth/core";
import { openProxyPlugin, proxyPluginType, type ProxyPluginSpec, type ProxyType } from "@berth/proxy";
import { PERSISTED_PROXY_PLUGINS, readPersisted, writePersisted } from "./persisted-registrations.js";

/** A proxy plugin registered while the daemon runs. */
export interface RuntimeProxyPlugin extends ProxyPluginSpec {
  readonly persist: boolean;
}

/**
 * Proxy plugins that join and leave a running daemon. Only snapshotters: metadata and the
 * services look snapshotters up at each call, so a new one is usable at once; the content
 * store metadata wraps and the diff service's differ order are fixed when they initialise,
 * so content and diff proxies belong in [proxy_plugins] of the config file.
 */
export interface ProxyRegistry {
  /** Registers persisted plugins again; called once the daemon's plugins are loaded. */
  attach(plugins: LoadedPlugins): Promise<void>;
  register(plugin: RuntimeProxyPlugin): Promise<void>;
  /** `type` "" matches any type. */
  unregister(type: string, id: string): Promise<void>;
  list(): RuntimeProxyPlugin[];
}

const DYNAMIC_TYPES: readonly ProxyType[] = ["snapshot"];

export function createProxyRegistry(root: string, log: Logger): ProxyRegistry {
  const file = join(root, PERSISTED_PROXY_PLUGINS);
  const registered = new Map<string, RuntimeProxyPlugin>(); // id → plugin
  let plugins: LoadedPlugins | undefined;
  // One change at a time, so the persisted file follows the order of requests.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };

  const loaded = (): LoadedPlugins => {
    if (!plugins) throw failedPrecondition("the daemon is still starting");
    return plugins;
  };
  const persist = () => writePersisted(file, [...registered.values()].filter((p) => p.persist).map(({ persist: _, ...spec }) => spec));

  const add = (plugin: RuntimeProxyPlugin) => {
    const opened = openProxyPlugin(plugin);
    try {
      loaded().register({ type: opened.type, id: plugin.id, instance: opened.instance, meta: opened.meta, close: () => opened.close() });
    } catch (err) {
      opened.close();
      throw err;
    }
    registered.set(plugin.id, plugin);
  };

  return {
    async attach(loadedPlugins) {
      plugins = loadedPlugins;
      for (const spec of await readPersisted(file)) {
        try {
          add({ ...spec, persist: true });
        } catch (err) {
          // A config-file plugin of that name now wins; the stale entry stays on disk, reported.
          log.warn("persisted proxy plugin not registered", { id: spec.id, error: (err as Error).message });
        }
      }
    },
    register: (plugin) =>
      serial(async () => {
        checkSpec(plugin);
        if (registered.has(plugin.id)) throw alreadyExists(`proxy plugin ${plugin.id} is already registered`);
        add(plugin);
        if (plugin.persist) await persist();
      }),
    unregister: (type, id) =>
      serial(async () => {
        const plugin = registered.get(id);
        if (!plugin || (type !== "" && type !== plugin.type)) throw notFound(`no proxy plugin ${id}${type ? ` of type ${type}` : ""} was registered at run time`);
        await loaded().unregister(proxyPluginType(plugin.type), id);
        registered.delete(id);
        if (plugin.persist) await persist();
      }),
    list: () => [...registered.values()],
  };
}

function checkSpec(plugin: RuntimeProxyPlugin): void {
  if (!DYNAMIC_TYPES.includes(plugin.type)) {
    throw invalidArgument(`proxy plugins of type ${JSON.stringify(plugin.type)} cannot be registered at run time (only ${DYNAMIC_TYPES.join(", ")}); configure them under [proxy_plugins] instead`);
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(plugin.id)) throw invalidArgument(`proxy plugin id ${JSON.stringify(plugin.id)}: use letters, digits, ".", "_" and "-"`);
  if (!isAbsolute(plugin.address)) throw invalidArgument(`proxy plugin ${plugin.id}: address must be an absolute UNIX socket path, got ${JSON.stringify(plugin.address)}`);
}

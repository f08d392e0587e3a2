import {
  ContentPlugin,
  DifferPlugin,
  SnapshotPlugin,
  definePlugin,
  invalidArgument,
  type ContentStore,
  type Differ,
  type PluginMeta,
  type PluginRegistration,
  type PluginType,
  type Snapshotter,
} from "@berth/core";
import { connectProxy } from "./proxy-connection.js";
import { createProxyContentStore } from "./proxy-content-store.js";
import { createProxyDiffer } from "./proxy-differ.js";
import { createProxySnapshotter } from "./proxy-snapshotter.js";

/** The `type` of a [proxy_plugins.<name>] table, as containerd names them. */
export type ProxyType = "snapshot" | "content" | "diff";
export const PROXY_TYPES: readonly ProxyType[] = ["snapshot", "content", "diff"];

/** One proxy plugin: what it serves, its ID (the snapshotter name) and its socket. */
export interface ProxyPluginSpec {
  readonly type: ProxyType;
  readonly id: string;
  readonly address: string;
  /** Shown by introspection beside the address. */
  readonly exports?: Readonly<Record<string, string>>;
}

/** A dialled proxy plugin: the instance other plugins use, under its plugin type. */
export interface OpenedProxy {
  readonly type: PluginType<unknown>;
  readonly instance: Snapshotter | ContentStore | Differ;
  readonly meta: PluginMeta;
  /** Closes the channel; calls in flight fail. */
  close(): void;
}

export function proxyPluginType(type: ProxyType): PluginType<Snapshotter> | PluginType<ContentStore> | PluginType<Differ> {
  switch (type) {
    case "snapshot":
      return SnapshotPlugin;
    case "content":
      return ContentPlugin;
    case "diff":
      return DifferPlugin;
    default:
      throw invalidArgument(`unsupported proxy plugin type ${JSON.stringify(type)} (expected ${PROXY_TYPES.join(", ")})`);
  }
}

/**
 * Makes the client for `spec` without connecting: the first call dials, so a proxy that starts
 * after the daemon (or restarts) is picked up when it is there.
 */
export function openProxyPlugin(spec: ProxyPluginSpec): OpenedProxy {
  const type = proxyPluginType(spec.type);
  if (spec.address === "") throw invalidArgument(`proxy plugin ${spec.id}: no address`);
  const conn = connectProxy(spec.address);
  const instance =
    spec.type === "snapshot"
      ? createProxySnapshotter(conn, spec.id)
      : spec.type === "content"
        ? createProxyContentStore(conn, spec.id)
        : createProxyDiffer(conn, spec.id);
  const meta: PluginMeta = {
    platforms: [],
    exports: { ...spec.exports, address: spec.address },
    capabilities: new Set(),
  };
  return { type, instance, meta, close: () => conn.close() };
}

/**
 * The plugin registration for a proxy plugin from the config file: type io.containerd.snapshotter.v1
 * (content.v1, differ.v1) with ID = its name, so introspection lists it and metadata serves it
 * namespaced like a local snapshotter. It never fails to load: a proxy that is not up yet makes
 * calls Unavailable until it is.
 */
export function proxyPluginRegistration(spec: ProxyPluginSpec): PluginRegistration {
  const type = proxyPluginType(spec.type) as PluginType<unknown>;
  return definePlugin({
    type,
    id: spec.id,
    init(ctx) {
      const opened = openProxyPlugin(spec);
      Object.assign(ctx.meta.exports, opened.meta.exports);
      ctx.onClose(() => opened.close());
      return opened.instance;
    },
  }) as PluginRegistration;
}

/**
 * @berth/proxy: proxy plugins. Core's Snapshotter, ContentStore and Differ implemented by
 * calling containerd's snapshots.v1, content.v1 and diff.v1 services of another process over a
 * UNIX socket, so an external plugin is used exactly like a local one.
 */
export { proxyPluginRegistration, openProxyPlugin, proxyPluginType, PROXY_TYPES } from "./proxy-plugin.js";
export type { ProxyPluginSpec, ProxyType, OpenedProxy } from "./proxy-plugin.js";
export { createProxySnapshotter } from "./proxy-snapshotter.js";
export { createProxyContentStore } from "./proxy-content-store.js";
export { createProxyDiffer } from "./proxy-differ.js";
export { connectProxy, type ProxyConnection } from "./proxy-connection.js";

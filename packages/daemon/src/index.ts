/** @berth/daemon: start a Berth daemon in-process, or run `berthd`. */
export { startDaemon, type Daemon, type DaemonOptions } from "./start-daemon.js";
export { serverPlugins } from "./builtin/plugins.js";
export { BERTH_VERSION } from "@berth/core";
export { findPluginPackages, importPlugins, type PluginPackage } from "./discovery/discover.js";
export { createProxyRegistry, type ProxyRegistry, type RuntimeProxyPlugin } from "./proxy/proxy-registry.js";
export { PERSISTED_PROXY_PLUGINS } from "./proxy/persisted-registrations.js";

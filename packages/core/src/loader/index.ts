export { orderPlugins } from "./order.js";
export { loadPlugins, type LoadOptions, type LoadedPlugins, type AddedPlugin } from "./load-plugins.js";
export type { PluginStatus, PluginState } from "./plugin-status.js";
export { hasCapability } from "./plugin-status.js";

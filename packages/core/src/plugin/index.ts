export { pluginType, optional, type PluginType, type InstanceOf } from "./plugin-type.js";
export { PluginTypes, EventPlugin, GrpcPlugin, ContentPlugin, MetadataPlugin, SnapshotPlugin, DifferPlugin, StreamingPlugin, GcPlugin } from "./types.js";
export { definePlugin, isPluginRegistration, skipPlugin, isSkipPlugin, pluginUri } from "./define-plugin.js";
export type { PluginRegistration, PluginDefinition, Requires } from "./define-plugin.js";
export type { InitContext, PluginMeta, PlatformSpec, DaemonInfo } from "./init-context.js";

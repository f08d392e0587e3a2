/**
 * @berth/core: the interfaces every Berth package meets at, and the loader that assembles
 * them. Depends on no subsystem.
 */

// For plugin authors.
export * from "./plugin/index.js";
export * from "./grpc/index.js";
export * from "./events/index.js";
export * from "./content/index.js";
export * from "./metadata/index.js";
export * from "./snapshots/index.js";
export * from "./diff/index.js";
export * from "./streaming/index.js";
export * from "./gc/index.js";
export * from "./runtime/index.js";
export * from "./namespaces/index.js";
export * from "./filters/index.js";
export * from "./errdefs/index.js";
export * from "./logging/index.js";

export { BERTH_VERSION } from "./version.js";

// For people assembling a daemon.
export * from "./loader/index.js";
export * from "./config/index.js";

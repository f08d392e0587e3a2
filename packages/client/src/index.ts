/** @berth/client: talk to berthd (or containerd) over its socket. */
export { createClient, type BerthClient, type ClientOptions, type PluginInfo } from "./client.js";
export { createServiceClient, type ServiceClient, type ClientMethod, type CallOptions } from "./service-client.js";
export type { PullOptions, TransferProgress } from "./pull.js";

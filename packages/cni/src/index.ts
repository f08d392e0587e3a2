/**
 * @berth/cni: pod networking through CNI plugins, for the CRI. Network namespaces pinned by a
 * bind mount; network configs read from a conf dir by containerd's rules; plugin chains run
 * with ADD, CHECK and DEL; results cached on disk (libcni's format) so teardown works after a
 * restart.
 */

// What the CRI uses.
export { createCniNetworking } from "./cni-networking.js";
export type {
  CniNetworking,
  CniNetworkingOptions,
  NetworkStatus,
  SetupRequest,
  TeardownRequest,
  CheckRequest,
} from "./cni-networking.js";
export { createNetns, removeNetns, isPinnedNetns, DEFAULT_NETNS_DIR } from "./netns.js";
export type { Netns } from "./netns.js";
export { kubernetesPodArgs } from "./runtime-args.js";
export type { CniArgs, CapabilityArgs, PortMapping, BandwidthLimits, DnsCapability, PodIdentity } from "./runtime-args.js";
export type { PodNetwork, NetworkAttachment, AttachedInterface, AttachedIp } from "./pod-network.js";
export type { CniResult, CniInterface, CniIpConfig, CniRoute, CniDns } from "./cni-result.js";

// Building blocks, for tools and tests.
export { loadNetworkConfig, NETWORK_CONFIG_EXTENSIONS } from "./load-network-config.js";
export type { LoadNetworkConfigOptions } from "./load-network-config.js";
export { parseNetworkConfigFile, parseNetworkConfigList, parseSingleNetworkConfig } from "./network-config.js";
export type { NetworkConfigList, PluginConfig } from "./network-config.js";
export { DEFAULT_CNI_CACHE_DIR } from "./result-cache.js";
export type { CniPluginFailure } from "./plugin-error.js";

/**
 * @berth/oci: OCI runtime specs (config.json) for Linux containers, generated the way containerd's
 * oci package does — its default spec, options applied in order, users resolved inside the image,
 * its default seccomp profile. Used by the client and CLI (`berth run`) and the CRI.
 */

// Generating a spec.
export { generateSpec, generateSpecFor } from "./generate-spec.js";
export { applySpecOpts, composeSpecOpts } from "./spec-opt.js";
export type { SpecContext, SpecOpt } from "./spec-opt.js";
export {
  defaultSpec,
  defaultCapabilities,
  defaultMounts,
  defaultNamespaces,
  defaultMaskedPaths,
  defaultReadonlyPaths,
  namespacedCgroupsPath,
  DEFAULT_UNIX_ENV,
  OCI_VERSION,
} from "./default-spec.js";
export { specToJSON, parseSpec } from "./spec-json.js";

// Options.
export { withImageConfig } from "./opts/image-config.js";
export type { ImageConfigOptions } from "./opts/image-config.js";
export {
  withProcessArgs,
  withProcessCwd,
  withEnv,
  withTTY,
  withTTYSize,
  withRlimit,
  withNoNewPrivileges,
  withNewPrivileges,
} from "./opts/process.js";
export {
  withUser,
  withUidGid,
  withAdditionalGids,
  withAppendAdditionalGroups,
  withUmask,
  lookupRootfs,
} from "./opts/user.js";
export type { UserLookupOptions } from "./opts/user.js";
export { withHostname, withDomainname, withAnnotations } from "./opts/identity.js";
export {
  withHostNamespace,
  withLinuxNamespace,
  withUserNamespace,
  withCgroup,
  withNamespacedCgroup,
} from "./opts/namespaces.js";
export {
  withMemoryLimit,
  withMemorySwap,
  withCPUShares,
  withCPUs,
  withCPUsMems,
  withCPUCFS,
  withCPUCount,
  withPidsLimit,
} from "./opts/resources.js";
export {
  withRootfsPath,
  withRootfsReadonly,
  withMounts,
  withoutMounts,
  withDevShmSize,
  withHostHostsFile,
  withHostResolvConf,
  withHostLocaltime,
  withWritableSysfs,
  withWritableCgroupfs,
} from "./opts/filesystem.js";
export {
  withCapabilities,
  withAddedCapabilities,
  withDroppedCapabilities,
  withAmbientCapabilities,
  withAllKnownCapabilities,
  withAllCurrentCapabilities,
} from "./opts/capabilities.js";
export {
  withDefaultUnixDevices,
  withAllDevicesAllowed,
  withParentCgroupDevices,
  withHostDevices,
  withDevices,
  withLinuxDevice,
  withPrivilegedDevices,
} from "./opts/devices.js";
export {
  withMaskedPaths,
  withReadonlyPaths,
  withSelinuxLabel,
  withApparmorProfile,
  withPrivileged,
} from "./opts/security.js";
export { withDefaultSeccomp, withSeccompProfile, withSeccompUnconfined } from "./opts/seccomp.js";

// Building blocks.
export { mergeEnv } from "./env.js";
export { defaultSeccompProfile } from "./seccomp/default-profile.js";
export { currentSeccompHost } from "./seccomp/host.js";
export type { SeccompHost } from "./seccomp/host.js";
export { KNOWN_CAPABILITIES, capabilitiesFromMask, currentCapabilities } from "./capabilities.js";
export { deviceFromPath, devicesAt, splitDeviceNumber } from "./devices.js";
export { resolveUser, supplementaryGids } from "./user/resolve-user.js";
export type { ResolvedUser } from "./user/resolve-user.js";
export { rootfsUserDb } from "./user/rootfs-user-db.js";
export type { RootfsUserDb } from "./user/rootfs-user-db.js";
export { parsePasswd, parseGroup, MAX_ID } from "./user/user-db.js";
export type { PasswdEntry, GroupEntry } from "./user/user-db.js";
export { openInRoot, readTextInRoot, MAX_ROOT_FILE_BYTES } from "./user/root-file.js";

// Types.
export type { ImageConfig } from "./image-config.js";
export type * from "./runtime-spec.js";

/**
 * @berth/mount: mounts containerd Mount lists (what snapshotters return) and unmounts them again.
 */
export { mountAll } from "./mount-all.js";
export { unmountAll } from "./unmount-all.js";
export type { UnmountOptions } from "./unmount-all.js";
export { withMounts } from "./with-mounts.js";
export type { WithMountsOptions } from "./with-mounts.js";
export { parseMountOptions } from "./mount-options.js";
export type { ParsedOptions } from "./mount-options.js";
export { shortenOverlayOptions, commonParentDirectory } from "./overlay-options.js";
export type { ShortenedOverlayOptions } from "./overlay-options.js";
export { resolveInRoot } from "./root-path.js";
export { readMountInfo, parseMountInfo } from "./mountinfo.js";
export type { MountInfo } from "./mountinfo.js";

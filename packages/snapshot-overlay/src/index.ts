/**
 * @berth/snapshot-overlay: containerd's overlayfs snapshotter in TypeScript — a directory per
 * snapshot, overlay mounts of the parent chain — and its plugin, io.containerd.snapshotter.v1.overlayfs.
 */
export { createOverlaySnapshotter, UPPERDIR_LABEL } from "./overlay-snapshotter.js";
export type { OverlaySnapshotter, OverlaySnapshotterOptions } from "./overlay-snapshotter.js";
export { overlayMounts, lowerdirOption } from "./overlay-mounts.js";
export { probeOverlay } from "./probe-overlay.js";
export type { OverlayProbe } from "./probe-overlay.js";
export { overlayPlugin } from "./plugin.js";

/**
 * @berth/snapshot-btrfs: containerd's btrfs snapshotter in TypeScript — a subvolume per
 * snapshot, read-only snapshots for views and committed layers — and its plugin,
 * io.containerd.snapshotter.v1.btrfs.
 */
export { createBtrfsSnapshotter } from "./btrfs-snapshotter.js";
export type { BtrfsSnapshotter, BtrfsSnapshotterOptions } from "./btrfs-snapshotter.js";
export { probeBtrfs } from "./probe-btrfs.js";
export type { BtrfsProbe } from "./probe-btrfs.js";
export { btrfsPlugin } from "./plugin.js";

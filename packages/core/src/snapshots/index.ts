export type { SnapshotKind, SnapshotInfo, SnapshotUsage, Mount, SnapshotOptions, Snapshotter } from "./snapshotter.js";

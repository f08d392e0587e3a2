export type { SnapshotKind, SnapshotInfo, SnapshotUsage, Mount, SnapshotOptions, Snapshotter } from "./snapshotter.js";
export { SNAPSHOT_REBASE_CAPABILITY, parentAtCommit } from "./snapshotter.js";
export { snapshotterConformance, DEEP_CHAIN_CASE, DEEP_CHAIN_LAYERS } from "./conformance.js";
export type { ConformanceCase, ConformanceHarness, ConformanceOptions } from "./conformance.js";

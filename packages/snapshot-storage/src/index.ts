/**
 * @berth/snapshot-storage: the metadata store snapshotter backends share (containerd's
 * snapshots/storage): snapshots by key with numeric ids, kinds, parents, labels, times and
 * children, in lmdb, every mutation one transaction; and the filesystem steps backends share
 * (placing a new snapshot's directory inside its transaction, the disk-usage walk).
 */
export { openSnapshotStorage, STORAGE_SCHEMA_VERSION } from "./storage.js";
export type { SnapshotStorage } from "./storage.js";
export type { SnapshotReader, SnapshotWriter } from "./transactions.js";
export type { StoredSnapshot, SnapshotChain } from "./records.js";
export { toInfo, ZERO_USAGE } from "./records.js";
export { snapshotFields } from "./filter-adaptor.js";
export { diskUsage } from "./disk-usage.js";
export { placeNewSnapshot } from "./place-new.js";
export { MAX_KEY_BYTES, MAX_LABEL_BYTES } from "./validate.js";

/**
 * @berth/wire: conversions between containerd's wire messages (@berth/api) and core's records,
 * both ways, for the services that answer those messages and the clients that send them.
 */
export { int64ToNumber, dateFromWire, updateMaskToWire } from "./scalars.js";
export { mountToWire, mountsToWire, mountFromWire, mountsFromWire, type MountOut } from "./mounts.js";
export { descriptorToWire, descriptorFromWire, type DescriptorOut } from "./descriptors.js";
export {
  kindToWire,
  kindFromWire,
  snapshotInfoToWire,
  snapshotInfoFromWire,
  snapshotUpdateFromWire,
  usageToWire,
  usageFromWire,
  type SnapshotInfoOut,
  type UsageOut,
} from "./snapshots.js";
export {
  contentInfoToWire,
  contentInfoFromWire,
  contentUpdateFromWire,
  ingestStatusToWire,
  ingestStatusFromWire,
  type ContentInfoOut,
  type IngestStatusOut,
} from "./content.js";

import { lookupLabel, type FieldLookup, type SnapshotInfo } from "@berth/core";

/**
 * The fields a snapshot filter can name, as containerd's snapshot walk exposes them: kind,
 * name, parent (present even when empty) and labels.<key>.
 */
export function snapshotFields(info: SnapshotInfo): FieldLookup {
  return (fieldpath) => {
    switch (fieldpath[0]) {
      case "kind":
        return info.kind;
      case "name":
        return info.name;
      case "parent":
        return info.parent;
      case "labels":
        return lookupLabel(info.labels, fieldpath.slice(1));
      default:
        return undefined;
    }
  };
}

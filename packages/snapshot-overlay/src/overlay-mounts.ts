import type { Mount } from "@berth/core";
import type { SnapshotChain } from "@berth/snapshot-storage";
import type { OverlayLayout } from "./layout.js";

/**
 * The mounts of an active snapshot or view, as containerd's overlay snapshotter gives them:
 *
 * - no parent: a bind of its own (empty) layer, rw for an active snapshot, ro for a view;
 * - a view of one parent: a read-only bind of that parent's layer (overlay needs two lowers
 *   when it has no upper);
 * - otherwise overlay: lowerdir is the parent chain, nearest first; an active snapshot adds its
 *   upperdir and workdir, a view has none and so is read-only.
 *
 * `overlayOptions` (index=off, configured ones) go only on overlay mounts.
 */
export function overlayMounts(layout: OverlayLayout, chain: SnapshotChain, overlayOptions: readonly string[]): Mount[] {
  const [nearest] = chain.parentIds;
  if (nearest === undefined) {
    return [{ type: "bind", source: layout.upper(chain.id), options: [chain.kind === "active" ? "rw" : "ro", "rbind"] }];
  }
  if (chain.kind !== "active" && chain.parentIds.length === 1) {
    return [{ type: "bind", source: layout.upper(nearest), options: ["ro", "rbind"] }];
  }
  const options: string[] = [];
  if (chain.kind === "active") options.push(`workdir=${layout.work(chain.id)}`, `upperdir=${layout.upper(chain.id)}`);
  options.push(lowerdirOption(chain.parentIds.map(layout.upper)), ...overlayOptions);
  return [{ type: "overlay", source: "overlay", options }];
}

/** `lowerdir=a:b:c`, uppermost first. */
export function lowerdirOption(lowers: readonly string[]): string {
  return `lowerdir=${lowers.join(":")}`;
}

import type { transferTypes } from "@berth/api";
import { invalidArgument } from "@berth/core";
import { normalizePlatform, type Platform } from "@berth/image-spec";
import type { ReferenceRule } from "../image-names.js";
import type { UnpackTarget } from "../unpack.js";
import type { TransferServiceDeps } from "./deps.js";

/** An ImageStore's platforms, normalised. */
export function platformsOf(store: transferTypes.ImageStore): Platform[] {
  return store.platforms.map((p) => normalizePlatform({ os: p.os, architecture: p.architecture, variant: p.variant }));
}

export function referenceRules(store: transferTypes.ImageStore): ReferenceRule[] {
  return store.extraReferences.map((r) => ({
    name: r.name,
    isPrefix: r.isPrefix,
    allowOverwrite: r.allowOverwrite,
    addDigest: r.addDigest,
    skipNamedDigest: r.skipNamedDigest,
  }));
}

/** Where to unpack: the first unpack configuration's snapshotter (overlayfs when unnamed). */
export function unpackTarget(deps: TransferServiceDeps, store: transferTypes.ImageStore): UnpackTarget | undefined {
  const config = store.unpacks[0];
  if (config === undefined) return undefined;
  const name = config.snapshotter === "" ? "overlayfs" : config.snapshotter;
  const snapshotter = deps.metadata.snapshotters.get(name);
  if (snapshotter === undefined) throw invalidArgument(`snapshotter not loaded: ${name}`);
  return { name, snapshotter, differ: deps.differ, rebase: deps.canRebase?.(name) };
}

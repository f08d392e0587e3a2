import { failedPrecondition, invalidArgument, type Mount } from "@berth/core";

/** An overlay mount's directories, from its options. */
export interface OverlayDirs {
  readonly upper: string | undefined;
  /** Topmost first, as overlayfs lists them. */
  readonly lowers: readonly string[];
  /** Options under which the upper dir alone no longer tells the changes (metacopy, redirects). */
  readonly indirect: boolean;
}

/**
 * How to reach the files of a mount list without the kernel, when that is possible:
 * - a single overlay mount with an upperdir: the upper dir is the layer's own directory;
 * - a single bind mount: its source directory;
 * - no mounts at all: an empty tree (compare's lower side for a first layer).
 * Anything else must be mounted.
 */
export type MountPlan =
  | { readonly kind: "overlay"; readonly mount: Mount; readonly dirs: OverlayDirs & { readonly upper: string } }
  | { readonly kind: "bind"; readonly mount: Mount; readonly dir: string; readonly readOnly: boolean }
  | { readonly kind: "empty" }
  | { readonly kind: "mount"; readonly mounts: readonly Mount[] };

export function planMounts(mounts: readonly Mount[]): MountPlan {
  if (mounts.length === 0) return { kind: "empty" };
  const [only] = mounts;
  if (mounts.length !== 1 || !only || (only.target ?? "") !== "") return { kind: "mount", mounts };
  if (only.type === "overlay") {
    const dirs = overlayDirs(only.options);
    if (dirs.upper !== undefined) return { kind: "overlay", mount: only, dirs: { ...dirs, upper: dirs.upper } };
    return { kind: "mount", mounts };
  }
  if (isBind(only)) return { kind: "bind", mount: only, dir: only.source, readOnly: only.options.includes("ro") };
  return { kind: "mount", mounts };
}

/** The directory a layer can be applied into directly, with its overlay lowers; undefined: mount it. */
export function directApplyTarget(plan: MountPlan): { root: string; lowers?: readonly string[] } | undefined {
  switch (plan.kind) {
    case "overlay":
      return { root: plan.dirs.upper, lowers: plan.dirs.lowers };
    case "bind":
      if (plan.readOnly) throw failedPrecondition(`cannot apply a layer to the read-only bind mount of ${plan.dir}`);
      return { root: plan.dir };
    case "empty":
      throw invalidArgument("no mounts to apply the layer to");
    case "mount":
      return undefined;
  }
}

export function isBind(m: Mount): boolean {
  return m.type === "bind" || m.type === "rbind" || m.options.includes("bind") || m.options.includes("rbind");
}

export function overlayDirs(options: readonly string[]): OverlayDirs {
  let upper: string | undefined;
  let lowers: string[] = [];
  let indirect = false;
  for (const o of options) {
    if (o.startsWith("upperdir=")) upper = o.slice("upperdir=".length);
    else if (o.startsWith("lowerdir=")) lowers = splitLowerdirs(o.slice("lowerdir=".length));
    else if (o.startsWith("lowerdir+=")) lowers.push(unescape(o.slice("lowerdir+=".length)));
    else if (/^(metacopy|redirect_dir)=(on|follow)$/.test(o)) indirect = true;
  }
  return { upper, lowers, indirect };
}

/** Splits on ":" but not on "\:" (overlayfs' escape for a colon in a path). */
function splitLowerdirs(list: string): string[] {
  return list.split(/(?<!\\):/).map(unescape);
}

function unescape(dir: string): string {
  return dir.replace(/\\([:\\,])/g, "$1");
}

/** Mounts made read-only, for looking without writing (compare's upper side). */
export function readOnly(mounts: readonly Mount[]): Mount[] {
  return mounts.map((m) => (m.options.includes("ro") ? m : { ...m, options: [...m.options.filter((o) => o !== "rw"), "ro"] }));
}

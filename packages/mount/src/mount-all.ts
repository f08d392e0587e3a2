import { resolve } from "node:path";
import type { Mount } from "@berth/core";
import { MNT_DETACH, umount2 } from "@berth/native";
import { mountOne } from "./mount-one.js";
import { resolveInRoot } from "./root-path.js";

function undo(mountPoint: string): void {
  try {
    umount2(mountPoint, 0);
  } catch {
    try {
      // Busy, or holding mounts propagated in by an rbind: detach the whole subtree.
      umount2(mountPoint, MNT_DETACH);
    } catch {
      // Already gone; the caller's error is what matters.
    }
  }
}

/**
 * Mounts `mounts` in order at `target`, each at its own `target` subpath (resolved inside
 * `target`, so symlinks cannot lead it out). All or nothing: when one fails, those already
 * mounted are unmounted, last first, before the error is thrown.
 */
export async function mountAll(mounts: readonly Mount[], target: string): Promise<void> {
  const root = resolve(target);
  const done: string[] = [];
  try {
    for (const m of mounts) {
      const mountPoint = await resolveInRoot(root, m.target ?? "");
      mountOne(m, mountPoint);
      done.push(mountPoint);
    }
  } catch (err) {
    for (const mountPoint of done.reverse()) undo(mountPoint);
    throw err;
  }
}

import { realpath } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { MNT_DETACH, UMOUNT_NOFOLLOW, umount2 } from "@berth/native";
import { internal } from "@berth/core";
import { syscallFailure } from "./errors.js";
import { readMountInfo } from "./mountinfo.js";

export interface UnmountOptions {
  /** When a mount stays busy after the retries, detach it lazily (MNT_DETACH) instead of failing. */
  readonly detachOnBusy?: boolean;
}

const BUSY_RETRIES = 5;
const BUSY_RETRY_DELAY_MS = 50;
const SLASH = 0x2f;

const codeOf = (err: unknown) => (err as NodeJS.ErrnoException).code;

function depth(path: Buffer): number {
  let n = 0;
  for (const byte of path) if (byte === SLASH) n++;
  return n;
}

function isAtOrBelow(path: Buffer, root: Buffer): boolean {
  if (root.length === 1 && root[0] === SLASH) return true;
  return path.equals(root) || (path.length > root.length && path[root.length] === SLASH && path.subarray(0, root.length).equals(root));
}

/** Unmounts one mount point; false when there was nothing (reachable) mounted there. */
async function unmountOne(mountPoint: Buffer, opts: UnmountOptions): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    try {
      umount2(mountPoint, UMOUNT_NOFOLLOW);
      return true;
    } catch (err) {
      const code = codeOf(err);
      // Not (or no longer) a mount point: a parent's lazy detach can take children with it, and
      // a mount hidden under a later one on a parent path cannot be reached yet.
      if (code === "EINVAL" || code === "ENOENT") return false;
      if (code !== "EBUSY") throw syscallFailure(`unmount ${mountPoint.toString()}`, err);
      if (attempt < BUSY_RETRIES) {
        await sleep(BUSY_RETRY_DELAY_MS);
        continue;
      }
      if (!opts.detachOnBusy) throw syscallFailure(`unmount ${mountPoint.toString()}`, err);
      try {
        umount2(mountPoint, MNT_DETACH | UMOUNT_NOFOLLOW);
        return true;
      } catch (detachErr) {
        if (codeOf(detachErr) === "EINVAL" || codeOf(detachErr) === "ENOENT") return false;
        throw syscallFailure(`detach ${mountPoint.toString()}`, detachErr);
      }
    }
  }
}

async function mountPointsBelow(root: Buffer): Promise<Buffer[]> {
  return (await readMountInfo())
    .map((info, order) => ({ point: info.mountPoint, order }))
    .filter(({ point }) => isAtOrBelow(point, root))
    .sort((a, b) => depth(b.point) - depth(a.point) || b.order - a.order)
    .map(({ point }) => point);
}

/**
 * Unmounts everything mounted at or below `target`, deepest first and, on one path, the mount on
 * top first. A busy mount is retried a few times; "not mounted" counts as done, so the call is
 * idempotent. `target` need not exist. Passes repeat while they make progress: a mount at
 * `a/b` made before another at `a` is out of reach until the one at `a` is gone.
 */
export async function unmountAll(target: string, opts: UnmountOptions = {}): Promise<void> {
  let root: string;
  try {
    root = await realpath(target);
  } catch (err) {
    if (codeOf(err) === "ENOENT") return;
    throw err;
  }
  const rootBytes = Buffer.from(root);
  for (;;) {
    const below = await mountPointsBelow(rootBytes);
    if (below.length === 0) return;
    let progress = false;
    for (const point of below) if (await unmountOne(point, opts)) progress = true;
    if (!progress) {
      throw internal(`unmount ${root}: still mounted but unreachable: ${below.map((p) => p.toString()).join(", ")}`);
    }
  }
}

import { lstatSync, readdirSync } from "node:fs";
import type { SnapshotUsage } from "@berth/core";

/** The longest the walk holds the event loop before letting other work run. */
const SLICE_MS = 4;
const SLASH = Buffer.from("/");

/**
 * What the tree at `root` takes on disk, as containerd counts it: bytes allocated
 * (st_blocks × 512, so sparse files count what they use) and inodes, each hardlinked inode
 * once, the root directory included. Backends use it for their snapshots' own layers.
 *
 * The walk is synchronous in slices of a few milliseconds: a tree just written is in the
 * inode cache, where an lstat costs microseconds, while an lstat on the thread pool waits
 * behind whatever it is doing (measured while layers were applying: 230 ms for a 285-inode
 * layer, 370 ms for 6 000 inodes, against ~1 and ~20 ms in slices).
 */
export async function diskUsage(root: string, signal?: AbortSignal): Promise<SnapshotUsage> {
  const linked = new Set<number>();
  let size = 0;
  let inodes = 0;
  const count = (path: Buffer): boolean => {
    const st = lstatSync(path);
    const dir = st.isDirectory();
    // Only a non-directory with several names can be met twice.
    if (!dir && st.nlink > 1) {
      if (linked.has(st.ino)) return false;
      linked.add(st.ino);
    }
    inodes++;
    size += st.blocks * 512;
    return dir;
  };
  signal?.throwIfAborted();
  const top = Buffer.from(root);
  const dirs = count(top) ? [top] : [];
  let sliceStart = performance.now();
  for (let dir = dirs.pop(); dir !== undefined; dir = dirs.pop()) {
    // Names as bytes: a layer's names need not be UTF-8.
    for (const name of readdirSync(dir, { encoding: "buffer" })) {
      const path = Buffer.concat([dir, SLASH, name]);
      if (count(path)) dirs.push(path);
    }
    if (performance.now() - sliceStart > SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      signal?.throwIfAborted();
      sliceStart = performance.now();
    }
  }
  return { size, inodes };
}

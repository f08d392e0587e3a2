import { binding, type RawPath } from "./binding.js";
import { systemError } from "./system-error.js";

/** What a tree takes on disk. */
export interface TreeUsage {
  /** Bytes allocated: st_blocks × 512, so sparse files count what they use. */
  readonly size: number;
  /** Inodes, each hard-linked one once, the root included. */
  readonly inodes: number;
}

/**
 * Walks the tree at `root` (not following symlinks, the root itself included) in one
 * thread-pool job and sums its allocated bytes and inodes, as containerd counts a snapshot's
 * usage. A failure (an entry gone mid-walk, a permission) rejects with the first error and
 * the path it met it on.
 */
export async function diskUsage(root: RawPath): Promise<TreeUsage> {
  const path = Buffer.concat([typeof root === "string" ? Buffer.from(root) : root, Buffer.from([0])]);
  const result = await binding.diskUsage(path);
  if (result.errno !== 0) throw systemError(result.errno, "diskUsage", result.path ?? root);
  return { size: result.size, inodes: result.inodes };
}
